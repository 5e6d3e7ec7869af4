import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';

import { RetentionLoop } from '../common/retention-loop.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { EventLogRepository } from './event-log.repository.js';

/** Events deleted per statement. */
const BATCH = 5000;

/**
 * Deletes events older than EVENT_LOG_RETENTION_DAYS, in every process (at start, then hourly),
 * lowest ids first and never one the webhook fan-out has not passed. `event_log_horizon` records
 * how far it went, so a replay from before it is reported incomplete (docs/realtime.md).
 */
@Injectable()
export class EventLogRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EventLogRetention');
  private readonly loop: RetentionLoop | undefined;

  constructor(eventLog: EventLogRepository, @InjectConfig() config: AppConfig) {
    const days = config.realtime.eventLogRetentionDays;
    if (days === 0) return;
    this.loop = new RetentionLoop(
      {
        name: 'event log retention',
        batch: BATCH,
        begin: async () => {
          // Everything up to the horizon is gone already: start above it.
          let after = await eventLog.horizon();
          return async (limit) => {
            const { deleted, last } = await eventLog.deleteOld(days, after, limit);
            after = last;
            return deleted;
          };
        },
        describe: (deleted) =>
          `event log retention: deleted ${deleted} events written more than ${days} days ago`,
      },
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.loop?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }
}
