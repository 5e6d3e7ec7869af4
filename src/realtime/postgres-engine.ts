import { Logger } from '@nestjs/common';
import { Emitter } from '@socket.io/postgres-emitter';
import pg from 'pg';

import { createRealtimeAdapter } from './realtime.adapter.js';
import { type EventPublisher, RealtimeEngine } from './realtime-engine.js';

/** Parallel NOTIFY streams; a room always uses the same one, so its events stay in order. */
const SHARDS = 4;
/** Backoff between retries of a failed NOTIFY, capped. */
const RETRY_MAX_MS = 5_000;

const NOTIFY = 'SELECT pg_notify($1, $2)';
/** Upper bound on NOTIFYs sent in one statement (one round trip, one transaction). */
const NOTIFY_BATCH = 1000;
const EMPTY_RESULT: pg.QueryResult = { rows: [], rowCount: 0, command: '', oid: 0, fields: [] };

interface Pending {
  text: string;
  values: unknown[] | undefined;
  resolve: (result: pg.QueryResult) => void;
}

/**
 * One ordered stream of queries, shaped like the `pg.Pool` the emitter expects.
 *
 * - Order: a query starts when the previous one has finished, so NOTIFYs commit — and reach the
 *   API processes — in the order the emitter issued them.
 * - Throughput: the emitter sends one `SELECT pg_notify($1, $2)` per packet; the ones queued
 *   behind a running query go together as one statement over `unnest … WITH ORDINALITY`, which
 *   notifies in array order within one transaction (each payload is distinct — it carries its
 *   event_id — so Postgres's same-transaction deduplication never applies).
 * - Failures: retried until they succeed (the database restarting) or the process stops. It never
 *   rejects, because the emitter reports a rejection by emitting an "error" event to every client.
 */
class OrderedConnection {
  private readonly queue: Pending[] = [];
  private running = false;
  private drainWaiters: (() => void)[] = [];
  private closing = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
  ) {}

  query(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    return new Promise((resolve) => {
      this.queue.push({ text, values, resolve });
      if (!this.running) void this.pump();
    });
  }

  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0) {
      let count = 1;
      if (this.queue[0].text === NOTIFY) {
        while (count < this.queue.length && count < NOTIFY_BATCH && this.queue[count].text === NOTIFY)
          count++;
      }
      const batch = this.queue.splice(0, count);
      const result =
        batch.length === 1
          ? await this.attempt(batch[0].text, batch[0].values)
          : await this.attempt(
              `SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(c, p, i) ORDER BY i`,
              [batch.map((q) => q.values?.[0]), batch.map((q) => q.values?.[1])],
            );
      for (const pending of batch) pending.resolve(batch.length === 1 ? result : EMPTY_RESULT);
    }
    this.running = false;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  private async attempt(text: string, values: unknown[] | undefined): Promise<pg.QueryResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query(text, values);
      } catch (error) {
        // The events are committed: keep trying while the database is away (clients connected
        // throughout would otherwise miss them live); give up only when the process stops.
        if (this.closing) {
          this.logger.error(`socket.io emitter dropped a query at shutdown: ${(error as Error).message}`);
          return EMPTY_RESULT;
        }
        if (attempt === 1)
          this.logger.warn(`socket.io emitter query failed, retrying: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MAX_MS, 100 * 2 ** attempt)));
      }
    }
  }

  /** Stop retrying failed queries (the process is stopping). */
  close(): void {
    this.closing = true;
  }
}

const shardOf = (room: string): number => {
  let hash = 0;
  for (let i = 0; i < room.length; i++) hash = (hash * 31 + room.charCodeAt(i)) | 0;
  return Math.abs(hash) % SHARDS;
};

/**
 * Events cross processes through PostgreSQL (the zero-setup default): API processes use
 * `@socket.io/postgres-adapter` (LISTEN/NOTIFY on `socket.io#/`), a monitor process
 * `@socket.io/postgres-emitter`.
 */
export class PostgresEngine extends RealtimeEngine {
  readonly kind = 'postgres';
  private readonly logger = new Logger('RealtimeEngine');
  private readonly pools: pg.Pool[] = [];

  constructor(private readonly databaseUrl: string) {
    super();
  }

  /**
   * Two connections: one held for LISTEN, one for NOTIFY and cleanup. A single query connection
   * keeps this process's NOTIFYs in the order they were issued (pg's pool queues FIFO), so other
   * processes see a room's events in event-id order.
   */
  createAdapter(
    options: Parameters<RealtimeEngine['createAdapter']>[0],
  ): ReturnType<RealtimeEngine['createAdapter']> {
    const pool = this.pool(2);
    return createRealtimeAdapter(pool, options);
  }

  createPublisher(): EventPublisher {
    const pool = this.pool(SHARDS);
    const shards = Array.from({ length: SHARDS }, () => {
      const connection = new OrderedConnection(pool, this.logger);
      return { connection, emitter: new Emitter(connection) };
    });
    const drained = async () => {
      await Promise.all(shards.map((s) => s.connection.drained()));
    };
    return {
      emit: (room, name, payload) => shards[shardOf(room)].emitter.to(room).emit(name, payload),
      drained,
      stopRetrying: () => shards.forEach((s) => s.connection.close()),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.splice(0).map((pool) => pool.end()));
  }

  private pool(max: number): pg.Pool {
    const pool = new pg.Pool({ connectionString: this.databaseUrl, max, idleTimeoutMillis: 0 });
    // An idle client's error (the server restarted) must not crash the process; the adapter reconnects.
    pool.on('error', () => undefined);
    this.pools.push(pool);
    return pool;
  }
}
