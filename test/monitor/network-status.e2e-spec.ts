import pg from 'pg';
import type { DataSource } from 'typeorm';

import { createDataSource } from '../../src/database/data-source.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';
import { NetworkStatusReporter } from '../../src/monitor/network-status.reporter.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The status row's writes against PostgreSQL. They run beside every block's transaction, so they
 * must not make the server flush the WAL (docs/monitor.md, "Status writes off the WAL flush").
 */
describe(NetworkStatusReporter.name, () => {
  let database: TestDatabase;
  /** One connection: the reporter's writes and the stats flush below run in the same backend. */
  let dataSource: DataSource;
  let observer: pg.Client;
  let networkId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const migrator = createDataSource(database.url);
    await migrator.initialize();
    try {
      await runMigrationsLocked(migrator);
    } finally {
      await migrator.destroy();
    }
    dataSource = createDataSource(database.url, 1);
    await dataSource.initialize();
    [{ id: networkId }] = await dataSource.query<{ id: string }[]>(
      `SELECT id FROM blockchain_networks WHERE key = 'devnet'`,
    );
    observer = new pg.Client({ connectionString: database.url });
    await observer.connect();
  });

  afterAll(async () => {
    await observer?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  /** WAL flushes done by the server so far, with the reporter's backend's own counts included. */
  const walSyncs = async (): Promise<number> => {
    // A backend adds its counts to the shared statistics when it goes idle, at most once a second
    // unless told otherwise; this makes the reporter's connection add them now.
    await dataSource.query(`SELECT pg_stat_force_next_flush()`);
    const { rows } = await observer.query<{ n: string }>(`SELECT wal_sync::text AS n FROM pg_stat_wal`);
    return Number(rows[0].n);
  };

  it('writes every report, each in a transaction that does not wait for the WAL flush', async () => {
    const reporter = new NetworkStatusReporter(dataSource, networkId, 'devnet');
    const writes = 40;
    const before = await walSyncs();
    for (let i = 1; i <= writes; i++) {
      reporter.cursor(BigInt(1_000 + i));
      await reporter.flushed();
    }
    const after = await walSyncs();

    const [row] = await dataSource.query<{ state: string; head: string; cursor: string }[]>(
      `SELECT state, head_block::text AS head, cursor_block::text AS cursor FROM network_status
        WHERE network_id = $1`,
      [networkId],
    );
    expect(row).toEqual({ state: 'following', head: String(1_000 + writes), cursor: String(1_000 + writes) });
    // A synchronous commit flushes once per write (40); asynchronous ones leave the flushing to the
    // WAL writer, a few times a second at most.
    expect(after - before).toBeLessThan(writes / 4);
  });
});
