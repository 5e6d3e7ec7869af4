import { ChainFollower } from '../../src/monitor/chain-follower.js';
import { createDataSource } from '../../src/database/data-source.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';
import { type Anvil, sendEth, startAnvil } from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { depositsOf, randomAddress, synced } from './monitor-helpers.js';

describe(`${ChainFollower.name} on a network whose finality rule is 'finalized'`, () => {
  let anvil: Anvil;
  let database: TestDatabase;
  let app: TestApp;

  beforeAll(async () => {
    anvil = await startAnvil();
    database = await createTestDatabase();
    const ds = createDataSource(database.url, 2);
    await ds.initialize();
    await runMigrationsLocked(ds);
    await ds.query(`UPDATE blockchain_networks SET finality_rule = 'finalized' WHERE key = 'devnet'`);
    await ds.destroy();
    app = await startTestApp(
      { APP_ROLE: 'all', DEVNET_ENABLED: 'false', DEVNET_RPC_URL: anvil.wsUrl },
      database,
    );
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
    await anvil?.stop();
  });

  it('completes a deposit when the node finalizes its block, not at the confirmation count', async () => {
    const { auth } = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    await sendEth(anvil, { to: wallet, valueWei: 1n });
    const block = await anvil.mine();
    // anvil finalizes the block 64 below its head.
    await anvil.mine(63);
    await synced(app.dataSource, anvil);
    const finalized = await anvil.rpc<{ number: `0x${string}` }>('eth_getBlockByNumber', [
      'finalized',
      false,
    ]);
    expect(BigInt(finalized.number)).toBeLessThan(block);
    expect(await depositsOf(app.dataSource, wallet)).toEqual([
      expect.objectContaining({ status: 'pending', confirmations: 64 }),
    ]);

    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect(await depositsOf(app.dataSource, wallet)).toEqual([
      expect.objectContaining({ status: 'completed', confirmations: 65 }),
    ]);
  });
});
