import type { DataSource } from 'typeorm';

import { createDataSource } from '../../src/database/data-source.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';
import type { DomainEventType, NewEvent } from '../../src/events/domain-events.js';
import { EventLogRepository } from '../../src/events/event-log.repository.js';
import { createTestDatabase, type TestDatabase, untilOneWaits } from '../helpers/database.js';

const TYPES: DomainEventType[] = ['deposit.detected', 'deposit.confirmation', 'deposit.completed'];

/** Events whose payloads differ in every field a misaligned write would mix up. */
const someEvents = (count: number, tag: string): NewEvent[] =>
  Array.from(
    { length: count },
    (_, i) =>
      ({
        type: TYPES[i % TYPES.length],
        room: `0x${(i % 7).toString(16).padStart(40, '0')}`,
        // Quotes, backslashes, braces and non-ASCII: what an array literal would have to escape.
        data: { n: i, tag, note: `"quoted" \\ {brace} , comma ü ${i}`, nested: { list: [i, `${i}`] } },
      }) as unknown as NewEvent,
  );

/** A fresh migrated database for the enclosing describe block, and an EventLogRepository on it. */
function migratedLog(poolSize: number): { dataSource: DataSource; log: EventLogRepository } {
  const db = {} as { dataSource: DataSource; log: EventLogRepository };
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    db.dataSource = createDataSource(database.url, poolSize);
    await db.dataSource.initialize();
    await runMigrationsLocked(db.dataSource);
    db.log = new EventLogRepository(db.dataSource);
  });
  afterAll(async () => {
    await db.dataSource?.destroy();
    await database?.drop();
  });
  return db;
}

describe(EventLogRepository.name, () => {
  const db = migratedLog(4);

  it('appends a batch in input order: the i-th event gets the i-th id, with its own type, room and payload', async () => {
    const first = someEvents(3, 'first');
    const batch = someEvents(500, 'batch');
    const before = await db.dataSource.transaction((m) => db.log.append(m, first));
    const logged = await db.dataSource.transaction((m) => db.log.append(m, batch));

    expect(logged.map(({ type, room, data }) => ({ type, room, data }))).toEqual(batch);
    const ids = logged.map((e) => e.id);
    expect(ids[0]).toBeGreaterThan(before[before.length - 1].id);
    expect(ids.every((id, i) => i === 0 || id === ids[i - 1] + 1)).toBe(true);

    // What was stored is what append reported, id for id.
    const rooms = [...new Set(batch.map((e) => e.room))];
    const stored = await db.log.since(rooms, before[before.length - 1].id, 1000);
    expect(stored.map(({ id, type, room, data }) => ({ id, type, room, data }))).toEqual(
      logged.map(({ id, type, room, data }) => ({ id, type, room, data })),
    );
  });

  it('hands out ids in commit order: a second writer draws none until the first has committed', async () => {
    const first = someEvents(5, 'holder');
    const second = someEvents(5, 'waiter');
    const holder = db.dataSource.createQueryRunner();
    await holder.connect();
    try {
      await holder.startTransaction();
      const held = await db.log.append(holder.manager, first);
      let waiterDone = false;
      const waiter = db.dataSource
        .transaction((m) => db.log.append(m, second))
        .finally(() => (waiterDone = true));
      // The waiter is blocked on the event log's lock...
      await untilOneWaits(db.dataSource, 'advisory', 'the second writer never waited for the lock');
      // ...and has drawn no id while waiting: the sequence is where the holder left it.
      const [seq] = await db.dataSource.query<{ last: string }[]>(
        `SELECT last_value::text AS last FROM event_log_id_seq`,
      );
      expect(Number(seq.last)).toBe(held[held.length - 1].id);
      expect(waiterDone).toBe(false);
      await holder.commitTransaction();
      const logged = await waiter;
      expect(logged.map((e) => e.id)).toEqual(held.map((e) => e.id + first.length));
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
  });

  it('refuses to append outside a transaction', async () => {
    await expect(db.log.append(db.dataSource.manager, someEvents(1, 'x'))).rejects.toThrow(
      'EventLog.append needs an open transaction',
    );
  });
});

describe('EventLogRepository retention (EVENT_LOG_RETENTION_DAYS)', () => {
  // Three connections at once: the other transaction, the waiting batch, the lock probe.
  const db = migratedLog(3);

  it('deletes lowest ids first up to the first young event and never past the webhook cursor, and records the horizon', async () => {
    const ids = (await db.dataSource.transaction((m) => db.log.append(m, someEvents(6, 'r')))).map(
      (e) => e.id,
    );
    // Old, old, old, old, young, old: created_at follows commit order only roughly.
    for (const [i, days] of [40, 31, 35, 40, 0, 90].entries())
      await db.dataSource.query(
        `UPDATE event_log SET created_at = now() - make_interval(days => $2) WHERE id = $1`,
        [ids[i], days],
      );
    const cursor = (id: number) => db.dataSource.query(`UPDATE webhook_cursor SET last_event_id = $1`, [id]);
    expect(await db.log.horizon()).toBe(0);

    // The fan-out has turned only the first two into messages: the third waits for it.
    await cursor(ids[1]);
    expect(await db.log.deleteOld(30, 0, 3)).toEqual({ deleted: 2, last: ids[1] });
    expect(await db.log.horizon()).toBe(ids[1]);
    await cursor(ids[5]);
    // The batch reaches the young event: the two old ones before it go, and the run is over.
    expect(await db.log.deleteOld(30, ids[1], 3)).toEqual({ deleted: 2, last: ids[3] });
    expect(await db.log.deleteOld(30, ids[3], 3)).toEqual({ deleted: 0, last: ids[3] });
    expect(await db.log.horizon()).toBe(ids[3]);
    const left = await db.dataSource.query<{ id: string }[]>(
      `SELECT id::text AS id FROM event_log ORDER BY id`,
    );
    // The young event and the old one after it stay (a later run takes the old one once the young one has aged).
    expect(left.map((r) => Number(r.id))).toEqual([ids[4], ids[5]]);
    // With a longer retention nothing left is due.
    await db.dataSource.query(`UPDATE event_log SET created_at = now() - interval '40 days' WHERE id = $1`, [
      ids[4],
    ]);
    expect(await db.log.deleteOld(91, ids[3], 3)).toEqual({ deleted: 0, last: ids[3] });
    expect(await db.log.deleteOld(30, ids[3], 3)).toEqual({ deleted: 2, last: ids[5] });
  });
  it('waits for rows another transaction is deleting instead of skipping them: everything up to the horizon is gone', async () => {
    const ids = (await db.dataSource.transaction((m) => db.log.append(m, someEvents(5, 'w')))).map(
      (e) => e.id,
    );
    await db.dataSource.query(`UPDATE event_log SET created_at = now() - interval '40 days' WHERE id <= $1`, [
      ids[4],
    ]);
    await db.dataSource.query(`UPDATE webhook_cursor SET last_event_id = $1`, [ids[4]]);
    const after = await db.log.horizon();
    // Another process's batch holds the first two (and then rolls back).
    const other = db.dataSource.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      await other.query(`DELETE FROM event_log WHERE id = ANY($1::bigint[])`, [[ids[0], ids[1]]]);
      const run = db.log.deleteOld(30, after, 10);
      // The batch waits on the other transaction's rows...
      await untilOneWaits(
        db.dataSource,
        'transactionid',
        'the batch never waited for the rows being deleted',
      );
      // ...and takes them once that transaction has given them up.
      await other.rollbackTransaction();
      expect(await run).toEqual({ deleted: 5, last: ids[4] });
    } finally {
      if (other.isTransactionActive) await other.rollbackTransaction();
      await other.release();
    }
    expect(await db.log.horizon()).toBe(ids[4]);
    const [left] = await db.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM event_log WHERE id <= $1`,
      [ids[4]],
    );
    expect(left.n).toBe(0);
  });
});
