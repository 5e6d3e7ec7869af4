import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';

import type { LoggedEvent } from '../events/domain-events.js';
import { EventBus } from '../events/event-bus.js';
import { type EventPublisher, RealtimeEngine } from './realtime-engine.js';
import { toSocketEvent } from './socket-event.js';

/**
 * Role `monitor` has no Socket.IO server: committed events go to the API processes' rooms
 * through the engine's official emitter (`@socket.io/postgres-emitter`, or
 * `@socket.io/redis-emitter` when REDIS_URL is set).
 */
@Injectable()
export class EmitterRelay implements OnModuleInit, OnApplicationShutdown {
  private publisher?: EventPublisher;
  private stop?: () => void;

  constructor(
    private readonly bus: EventBus,
    private readonly engine: RealtimeEngine,
  ) {}

  onModuleInit(): void {
    this.publisher = this.engine.createPublisher();
    this.stop = this.bus.subscribe((events) => this.relay(events));
  }

  relay(events: readonly LoggedEvent[]): void {
    for (const event of events) {
      const { name, payload } = toSocketEvent(event);
      this.publisher!.emit(event.room, name, payload);
    }
  }

  /** Resolves when every event relayed so far has been sent. */
  async drained(): Promise<void> {
    await this.publisher?.drained();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop?.();
    // Flush what is queued; if the engine is unreachable, stop retrying after a grace period.
    const grace = setTimeout(() => this.publisher?.stopRetrying(), 5_000);
    await this.drained();
    clearTimeout(grace);
    await this.engine.close();
  }
}
