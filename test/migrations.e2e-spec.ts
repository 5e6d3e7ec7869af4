import { createDataSource } from '../src/database/data-source.js';
import { runMigrationsLocked } from '../src/database/migrate.js';
import { MIGRATIONS } from '../migrations/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

describe('migrations', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db.drop();
  });

  it('apply once when several processes migrate at the same time', async () => {
    const sources = [createDataSource(db.url, 2), createDataSource(db.url, 2), createDataSource(db.url, 2)];
    await Promise.all(sources.map((s) => s.initialize()));
    try {
      const applied = await Promise.all(sources.map((s) => runMigrationsLocked(s)));
      expect(applied.flat()).toHaveLength(MIGRATIONS.length);
      const rows = await sources[0].query('SELECT count(*)::int AS n FROM migrations');
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await Promise.all(sources.map((s) => s.destroy()));
    }
  });

  it('every migration has a working down, and up again restores the schema and seed', async () => {
    const source = createDataSource(db.url, 2);
    await source.initialize();
    try {
      for (let i = 0; i < MIGRATIONS.length; i++) await source.undoLastMigration({ transaction: 'each' });
      const tables = await source.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'`,
      );
      expect(tables).toEqual([]);
      await runMigrationsLocked(source);
      const networks = await source.query('SELECT key FROM blockchain_networks ORDER BY chain_id');
      expect(networks.map((n: { key: string }) => n.key)).toEqual(['mainnet', 'devnet', 'sepolia']);
    } finally {
      await source.destroy();
    }
  });
});
