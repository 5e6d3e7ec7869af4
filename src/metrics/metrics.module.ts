import { Global, Module } from '@nestjs/common';

import { EventMetrics } from './event-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsService } from './metrics.service.js';

/** `GET /metrics` of this process (every role; see docs/operations.md). */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, EventMetrics],
  exports: [MetricsService],
})
export class MetricsModule {}
