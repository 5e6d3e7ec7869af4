import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';

import { Public } from '../auth/public.decorator.js';
import { Readiness } from './readiness.js';

export class HealthResponseDto {
  @ApiProperty({ example: 'ok' })
  status: 'ok';

  @ApiProperty({ example: 'up', description: 'The database answered a query' })
  database: 'up';
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthCheckService,
    private readonly readiness: Readiness,
  ) {}

  /** Kept as it was before /health/live and /health/ready, for existing probes. */
  @Get()
  @ApiOkResponse({ type: HealthResponseDto })
  @ApiServiceUnavailableResponse({ description: 'The database did not answer' })
  async check(): Promise<HealthResponseDto> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ServiceUnavailableException({ status: 'error', database: 'down' });
    }
    return { status: 'ok', database: 'up' };
  }

  /** The process is up and its event loop answers; nothing outside it is checked. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /**
   * Ready to do its work: database, Redis (when REDIS_URL is set), this process's chain followers
   * (not stalled) and exchange feed (when it runs one). 503 lists the failing checks under `error`.
   */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(this.readiness.checks());
  }
}
