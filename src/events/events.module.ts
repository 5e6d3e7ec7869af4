import { Global, Module } from '@nestjs/common';

import { EventBus } from './event-bus.js';
import { EventLogRepository } from './event-log.repository.js';

@Global()
@Module({ providers: [EventLogRepository, EventBus], exports: [EventLogRepository, EventBus] })
export class EventsModule {}
