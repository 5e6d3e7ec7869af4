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
    // Counted per label set here and added once per set: prom-client builds a key from the labels
    // on every `inc`, and a block's commit publishes hundreds of events with a handful of sets.
    const emitted = new Map<string, number>();
    const deposits = new Map<
      string,
      { labels: Record<'network' | 'asset_type' | 'event', string>; n: number }
    >();
    let socketSent = 0;
    for (const event of events) {
      const type = SOCKET_EVENT_NAMES[event.type];
      emitted.set(type, (emitted.get(type) ?? 0) + 1);
      if (event.type === 'price_alert.triggered') {
        // A socket delivery is `sent` when its event commits (AlertDispatcher).
        socketSent++;
        continue;
      }
      const { network, asset, block_number } = event.data;
      const change = DEPOSIT_EVENTS[event.type];
      if (change !== undefined) {
        const key = `${network} ${asset.type} ${change}`;
        const counted = deposits.get(key);
        if (counted) counted.n++;
        else deposits.set(key, { labels: { network, asset_type: asset.type, event: change }, n: 1 });
      }
      // One observation per block (its deposits commit together), on first detection.
      if (event.type !== 'deposit.detected') continue;
      const block = `${network}:${block_number}`;
      if (timedBlocks.has(block)) continue;
      timedBlocks.add(block);
      const seenAt = this.metrics.headSeenAt(network, block_number);
      if (seenAt !== undefined)
        this.metrics.detectionSeconds.observe({ network }, Math.max(0, now - seenAt) / 1000);
    }
    for (const [type, n] of emitted) this.metrics.eventsEmitted.inc({ type }, n);
    for (const { labels, n } of deposits.values()) this.metrics.deposits.inc(labels, n);
    if (socketSent > 0) this.metrics.notifications.inc({ channel: 'socket', outcome: 'sent' }, socketSent);
  }
}
