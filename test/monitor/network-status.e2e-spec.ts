import pg from 'pg';
import type { DataSource } from 'typeorm';

import { createDataSource } from '../../src/database/data-source.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';
import { NetworkStatusReporter, STATUS_UPSERT } from '../../src/monitor/network-status.reporter.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * The status row's writes against PostgreSQL. They run beside every block's transaction, so their
 * own transaction must commit without waiting for the WAL flush, and only theirs: deposits and
 * their events commit synchronously (docs/monitor.md, "New WAL segments").
 */
describe(NetworkStatusReporter.name, () => {
  let database: TestDatabase;
  /** One connection: what the reporter's writes leave on it is what the next query finds. */
  let dataSource: DataSource;
  let client: pg.Client;
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
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await dataSource?.destroy();
    await database?.drop();
  });

  const synchronousCommit = async (query: (sql: string) => Promise<{ synchronous_commit: string }[]>) =>
    (await query('SHOW synchronous_commit'))[0].synchronous_commit;

  it('writes the latest of every report, and leaves its connection committing synchronously', async () => {
    const reporter = new NetworkStatusReporter(dataSource, networkId, 'devnet');
    for (let i = 1; i <= 40; i++) {
      reporter.cursor(BigInt(1_000 + i));
      await reporter.flushed();
    }
    const [row] = await dataSource.query<{ state: string; head: string; cursor: string }[]>(
      `SELECT state, head_block::text AS head, cursor_block::text AS cursor FROM network_status
        WHERE network_id = $1`,
      [networkId],
    );
    expect(row).toEqual({ state: 'following', head: '1040', cursor: '1040' });
    expect(await synchronousCommit((sql) => dataSource.query(sql))).toBe('on');
  });

  it('commits its own transaction without waiting for the WAL flush, and only that one', async () => {
    await client.query('BEGIN');
    await client.query(STATUS_UPSERT, [networkId, 'following', '2000', '2000', new Date(), null]);
    const during = await synchronousCommit(async (sql) => (await client.query(sql)).rows);
    await client.query('COMMIT');
    const after = await synchronousCommit(async (sql) => (await client.query(sql)).rows);
    expect({ during, after }).toEqual({ during: 'off', after: 'on' });
  });
});
