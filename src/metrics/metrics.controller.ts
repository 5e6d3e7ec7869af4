import { timingSafeEqual } from 'node:crypto';

import { Controller, Get, Header, Headers, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';

import { Public } from '../auth/public.decorator.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { MetricsService } from './metrics.service.js';

/** Prometheus text format; behind `Authorization: Bearer $METRICS_TOKEN` when that is set. */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    this.authorize(authorization);
    const { contentType, body } = await this.metrics.render();
    res.type(contentType).send(body);
  }

  private authorize(authorization: string | undefined): void {
    const token = this.config.observability.metricsToken;
    if (token === undefined) return;
    const given = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b))
      throw new UnauthorizedException('metrics need Authorization: Bearer <METRICS_TOKEN>');
  }
}
