import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { HealthController } from './health.controller.js';
import { Readiness } from './readiness.js';

/**
 * /health (database, as before), /health/live and /health/ready, in every role (a monitor
 * process serves them on METRICS_PORT). Terminus logs nothing: a 503 body says what failed.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [Readiness],
})
export class HealthModule {}
