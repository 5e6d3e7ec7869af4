import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Emitter } from '@socket.io/postgres-emitter';
import pg from 'pg';
import { DataSource } from 'typeorm';

import type { LoggedEvent } from '../events/domain-events.js';
import { EventBus } from '../events/event-bus.js';
import { databaseUrlOf } from './realtime-pool.js';
import { toSocketEvent } from './socket-event.js';

/** Parallel NOTIFY streams; a room always uses the same one, so its events stay in order. */
const SHARDS = 4;
const RETRIES = 5;

/**
 * One ordered stream of queries on one connection, shaped like the `pg.Pool` the emitter expects.
 * A failed query is retried (the database restarting) and then given up with a log line: it never
 * rejects, because the emitter reports a rejection by emitting an "error" event to every client.
 */
class OrderedConnection {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  query(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    const run = this.tail.then(() => this.attempt(text, values));
    this.tail = run;
    return run;
  }

  drained(): Promise<unknown> {
    return this.tail;
  }

  private async attempt(text: string, values: unknown[] | undefined): Promise<pg.QueryResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query(text, values);
      } catch (error) {
        if (attempt >= RETRIES) {
          this.logger.error(`socket.io emitter gave up a NOTIFY: ${(error as Error).message}`);
          return { rows: [], rowCount: 0, command: '', oid: 0, fields: [] };
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  }
}

const shardOf = (room: string): number => {
  let hash = 0;
  for (let i = 0; i < room.length; i++) hash = (hash * 31 + room.charCodeAt(i)) | 0;
  return Math.abs(hash) % SHARDS;
};

/**
 * Role `monitor` has no Socket.IO server: committed events go to the API processes' rooms
 * through the official `@socket.io/postgres-emitter` (NOTIFY on the adapter's channel).
 */
@Injectable()
export class EmitterRelay implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EmitterRelay.name);
  private pool?: pg.Pool;
  private shards: { connection: OrderedConnection; emitter: Emitter }[] = [];
  private stop?: () => void;

  constructor(
    private readonly bus: EventBus,
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.pool = new pg.Pool({ connectionString: databaseUrlOf(this.dataSource), max: SHARDS });
    this.pool.on('error', () => undefined);
    this.shards = Array.from({ length: SHARDS }, () => {
      const connection = new OrderedConnection(this.pool!, this.logger);
      return { connection, emitter: new Emitter(connection) };
    });
    this.stop = this.bus.subscribe((events) => this.relay(events));
  }

  relay(events: readonly LoggedEvent[]): void {
    for (const event of events) {
      const { name, payload } = toSocketEvent(event);
      this.shards[shardOf(event.room)].emitter.to(event.room).emit(name, payload);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stop?.();
    await Promise.all(this.shards.map((s) => s.connection.drained()));
    await this.pool?.end();
  }
}
