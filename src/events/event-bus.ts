import { Injectable, Logger } from '@nestjs/common';

import type { LoggedEvent } from './domain-events.js';

export type EventListener = (events: readonly LoggedEvent[]) => void;

/**
 * In-process fan-out of committed events, in event-id order. The realtime module relays them to
 * Socket.IO (and so to other processes through the adapter); a listener must not throw or block.
 */
@Injectable()
export class EventBus {
  private readonly logger = new Logger(EventBus.name);
  private readonly listeners = new Set<EventListener>();

  /** Call after the transaction that appended `events` has committed. */
  publish(events: readonly LoggedEvent[]): void {
    if (events.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (error) {
        this.logger.error(`event listener failed: ${(error as Error).message}`);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
