import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import { pgArray } from '../database/array-literal.js';
import type { LoggedEvent, NewEvent } from './domain-events.js';

/** Any fixed 64-bit number; every writer of event_log takes it for the rest of its transaction. */
const EVENT_LOG_LOCK_KEY = 7_240_118_332;

interface EventRow {
  id: string;
  type: LoggedEvent['type'];
  room: string;
  payload: LoggedEvent['data'];
  created_at: Date;
}

const toLogged = (row: EventRow): LoggedEvent =>
  ({
    id: Number(row.id),
    type: row.type,
    room: row.room,
    data: row.payload,
    created_at: row.created_at.toISOString(),
  }) as LoggedEvent;

/**
 * The durable, append-only event log.
 *
 * Invariant: event ids are assigned in commit order. A bigserial alone does not give that (two
 * transactions can commit out of id order, and a reader replaying "after id N" would then skip
 * the late one); so `append` takes a transaction-scoped advisory lock before inserting, which
 * serialises writers until they commit.
 */
@Injectable()
export class EventLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Must run inside the transaction that makes the change the events describe. */
  async append(manager: EntityManager, events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    if (events.length === 0) return [];
    if (!manager.queryRunner?.isTransactionActive)
      throw new Error('EventLog.append needs an open transaction');
    // One row comes back: the ids as one array, and the transaction's now() (every row's created_at
    // is its DEFAULT now(), the transaction's start: the same for all of them). Returning the rows
    // themselves made ~600 row objects and Dates a block, which pg parses while the transaction is
    // still open and which then outlive a scavenge (docs/monitor.md, "fewer allocations on the
    // commit path"). The payloads are the ones we just wrote, so they are not read back either.
    // They go as ONE JSON array, not a json[] literal: pg escapes every quote of every payload into
    // an array literal that PostgreSQL then unescapes and parses element by element (45 ms per
    // 1,000 deposit payloads against 18 ms, docs/monitor.md). Rows are inserted in input order
    // (ORDER BY the ordinality), so the bigserial hands out ids in that order: the i-th smallest id
    // is the i-th event. The lock is taken in the same statement (one round trip less), before any
    // id: every row is joined with the `lock` CTE's one row, and the ids are drawn above that join
    // (as the rows are inserted), so none is drawn before the lock is held.
    const [row] = await manager.query<{ n: number; ids: string; created_at: Date }[]>(
      `WITH lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($4) AS held),
       inserted AS (
         INSERT INTO event_log (type, room, payload)
         SELECT e.type, e.room, p.payload
           FROM lock
          CROSS JOIN unnest($1::text[], $2::text[]) WITH ORDINALITY AS e(type, room, n)
           JOIN json_array_elements($3::json) WITH ORDINALITY AS p(payload, n) USING (n)
          ORDER BY n
         RETURNING id
       )
       SELECT count(*)::int AS n, array_agg(id ORDER BY id)::text AS ids, now() AS created_at FROM inserted`,
      [
        pgArray(events.map((e) => e.type)),
        pgArray(events.map((e) => e.room)),
        JSON.stringify(events.map((e) => e.data)),
        EVENT_LOG_LOCK_KEY,
      ],
    );
    if (row.n !== events.length) throw new Error(`event_log: ${row.n} of ${events.length} events written`);
    // `{1,2,3}`: bigint text, no quotes, no spaces.
    const ids = row.ids.slice(1, -1).split(',');
    const createdAt = row.created_at.toISOString();
    // A literal, not a spread of the event: a spread copy is several times larger (~70 MB against
    // ~12 MB allocated over the latency bench's 200 blocks).
    return events.map(
      (event, i) =>
        ({
          id: Number(ids[i]),
          type: event.type,
          room: event.room,
          data: event.data,
          created_at: createdAt,
        }) as LoggedEvent,
    );
  }

  /** Events of the given rooms after `afterId`, oldest first. */
  async since(rooms: readonly string[], afterId: number, limit = 1000): Promise<LoggedEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT id, type, room, payload, created_at FROM event_log
        WHERE room = ANY($1::text[]) AND id > $2 ORDER BY id LIMIT $3`,
      [rooms, afterId, limit],
    );
    return rows.map(toLogged);
  }

  /**
   * The highest event id the retention has deleted (0: none): a replay after an older id is
   * incomplete. Deletes go up in id order, so every event above it is still there.
   */
  async horizon(): Promise<number> {
    const [row] = await this.dataSource.query<{ pruned_through: string }[]>(
      `SELECT pruned_through::text AS pruned_through FROM event_log_horizon`,
    );
    return Number(row?.pruned_through ?? 0);
  }

  /**
   * One batch of the retention: of the next `limit` events after `after` (lowest ids first) that
   * the webhook fan-out has passed, deletes those before the first one written within the last
   * `days`, and raises the horizon to the highest deleted in the same statement. Fewer than
   * `limit` deleted means the run is over: a young event was reached (created_at follows commit
   * order only roughly, so an old event above it waits for a later run), the fan-out's cursor was
   * reached, or another process deleted these first (its rows are waited for, then found gone).
   * Everything at or below the horizon is deleted: batches go up in id order and none skips rows.
   */
  async deleteOld(days: number, after: number, limit: number): Promise<{ deleted: number; last: number }> {
    const [row] = await this.dataSource.query<{ deleted: number; last: string | null }[]>(
      `WITH batch AS (
         SELECT id, created_at FROM event_log
          WHERE id > $1 AND id <= (SELECT coalesce(max(last_event_id), 0) FROM webhook_cursor)
          ORDER BY id LIMIT $2
       ), old AS (
         SELECT id FROM batch
          WHERE id < coalesce((SELECT min(id) FROM batch WHERE created_at >= now() - make_interval(days => $3)),
                              9223372036854775807)
       ), gone AS (
         DELETE FROM event_log e USING old WHERE e.id = old.id RETURNING e.id
       ), horizon AS (
         UPDATE event_log_horizon SET pruned_through = GREATEST(pruned_through, (SELECT max(id) FROM gone))
          WHERE EXISTS (SELECT 1 FROM gone)
       )
       SELECT count(*)::int AS deleted, max(id)::text AS last FROM gone`,
      [after, limit, days],
    );
    return { deleted: row.deleted, last: row.last === null ? after : Number(row.last) };
  }

  async lastId(): Promise<number> {
    const [row] = await this.dataSource.query<{ id: string | null }[]>(
      `SELECT max(id)::text AS id FROM event_log`,
    );
    return Number(row?.id ?? 0);
  }
}
