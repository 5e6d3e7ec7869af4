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

  it('hex columns accept exactly 0x and lower-case hex digits of their length', async () => {
    const source = createDataSource(db.url, 2);
    await source.initialize();
    try {
      await runMigrationsLocked(source);
      const [user] = await source.query(
        `INSERT INTO users (email, password_hash) VALUES ('hex-checks@example.com', 'x') RETURNING id`,
      );
      const [network] = await source.query(`SELECT id FROM blockchain_networks WHERE key = 'devnet'`);
      const wallet = (address: string) =>
        source.query(`INSERT INTO wallets (user_id, address) VALUES ($1, $2)`, [user.id, address]);
      const deposit = (txHash: string, blockHash: string) =>
        source.query(
          `INSERT INTO deposits (network_id, tx_hash, log_index, block_number, block_hash, from_address,
                                 wallet_address, asset_type, asset_symbol, asset_decimals, amount,
                                 required_confirmations)
           VALUES ($1, $2, -1, 1, $3, $4, $4, 'native', 'ETH', 18, 1, 3)`,
          [network.id, txHash, blockHash, `0x${'a'.repeat(40)}`],
        );
      const hash = (digits: string) => `0x${digits}`;
      const good = hash('0123456789abcdef'.repeat(4));
      await expect(wallet(`0x${'0123456789'.repeat(4)}`)).resolves.toBeDefined();
      await expect(deposit(good, good)).resolves.toBeDefined();
      const badAddresses = [
        `0x${'a'.repeat(39)}`, // too short
        `0x${'a'.repeat(41)}`, // too long
        `0x${'A'.repeat(40)}`, // upper case
        `0X${'a'.repeat(40)}`,
        `00${'a'.repeat(40)}`,
        `0x${'a'.repeat(39)}g`,
        `0x${'a'.repeat(39)}é`, // 42 characters, not hex
        ` 0x${'a'.repeat(39)}`,
      ];
      for (const address of badAddresses) {
        await expect(wallet(address)).rejects.toThrow(/wallets_address_check/);
      }
      const badHashes = [
        hash('a'.repeat(63)),
        hash('a'.repeat(65)),
        hash('F'.repeat(64)),
        `${good.slice(0, -1)}\n`,
      ];
      for (const bad of badHashes) {
        await expect(deposit(bad, good)).rejects.toThrow(/deposits_tx_hash_check/);
        await expect(deposit(hash('b'.repeat(64)), bad)).rejects.toThrow(/deposits_block_hash_check/);
      }
    } finally {
      await source.destroy();
    }
  });
});
