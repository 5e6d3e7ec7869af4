import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';

import { type LoggedEvent, SOCKET_EVENT_NAMES } from '../events/domain-events.js';
import { EventBus } from '../events/event-bus.js';
import { MetricsService } from './metrics.service.js';

const DEPOSIT_EVENTS: Partial<Record<LoggedEvent['type'], string>> = {
  'deposit.detected': 'detected',
  'deposit.completed': 'completed',
  'deposit.orphaned': 'orphaned',
};

/**
 * Counts what the domain event bus carries (every event is published once, by the process that
 * committed it): events by type, deposits by state change, and the detection time of deposits of
 * blocks whose head was announced (MetricsService.headSeen).
 */
@Injectable()
export class EventMetrics implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.bus.subscribe((events) => this.count(events));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private count(events: readonly LoggedEvent[]): void {
    const now = Date.now();
    const timedBlocks = new Set<string>();
    for (const event of events) {
      this.metrics.eventsEmitted.inc({ type: SOCKET_EVENT_NAMES[event.type] });
      if (event.type === 'price_alert.triggered') {
        // A socket delivery is `sent` when its event commits (AlertDispatcher).
        this.metrics.notifications.inc({ channel: 'socket', outcome: 'sent' });
        continue;
      }
      const { network, asset, block_number } = event.data;
      const change = DEPOSIT_EVENTS[event.type];
      if (change !== undefined) this.metrics.deposits.inc({ network, asset_type: asset.type, event: change });
      // One observation per block (its deposits commit together), on first detection.
      const block = `${network}:${block_number}`;
      if (event.type !== 'deposit.detected' || timedBlocks.has(block)) continue;
      timedBlocks.add(block);
      const seenAt = this.metrics.headSeenAt(network, block_number);
      if (seenAt !== undefined)
        this.metrics.detectionSeconds.observe({ network }, Math.max(0, now - seenAt) / 1000);
    }
  }
}
