import { Global, Module } from '@nestjs/common';

import { EventBus } from './event-bus.js';
import { EventLogRetention } from './event-log-retention.js';
import { EventLogRepository } from './event-log.repository.js';

@Global()
@Module({
  providers: [EventLogRepository, EventBus, EventLogRetention],
  exports: [EventLogRepository, EventBus],
})
export class EventsModule {}
