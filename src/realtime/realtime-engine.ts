import type { Namespace } from 'socket.io';

import type { RealtimeAdapter, RealtimeAdapterOptions } from './realtime.adapter.js';

/** Sends events to rooms on every API process from a process without a Socket.IO server. */
export interface EventPublisher {
  /** Never throws; the events of one room reach the API processes in call order. */
  emit(room: string, name: string, payload: unknown): void;
  /** Resolves when everything emitted so far has been handed to the engine. */
  drained(): Promise<void>;
  /** Give up on what cannot be sent (the process is stopping). */
  stopRetrying(): void;
}

/**
 * How events cross processes: the one seam between the realtime code and the engine (the
 * official Socket.IO Postgres or Redis adapter/emitter pair). Holds, floors, recovery and the
 * catch-up after a lost subscription live in the adapter layer both engines share
 * (`withRealtimeDelivery`).
 */
export abstract class RealtimeEngine {
  abstract readonly kind: 'postgres' | 'redis';
  /** For `io.adapter(...)` in roles `all` and `api`. */
  abstract createAdapter(options: RealtimeAdapterOptions): (nsp: Namespace) => RealtimeAdapter;
  /** For role `monitor`. */
  abstract createPublisher(): EventPublisher;
  /** Closes the engine's connections (after the Socket.IO server and publishers are done). */
  abstract close(): Promise<void>;
}
