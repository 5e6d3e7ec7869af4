import type { Hex } from '../../src/common/evm.js';
import { createDataSource } from '../../src/database/data-source.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';
import { MonitorSupervisor } from '../../src/monitor/monitor.supervisor.js';
import { type Anvil, deployTestToken, sendEth, sendToken, startAnvil } from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/process.js';
import { cursorOf, depositsOf, eventsOf, randomAddress, synced } from '../monitor/monitor-helpers.js';

interface StatusBody {
  state: string;
  head_block: string | null;
  cursor_block: string | null;
  lag_blocks: string | null;
  last_block_at: string | null;
  error: string | null;
}

/**
 * Networks at run time against real nodes, one anvil per chain id: devnet (31337), `test-b`
 * (4242, its endpoint in RPC_URL_TEST_B) and `wrong-chain` (5555) whose endpoint serves 31337.
 */
describe('Networks at run time (monitor, real anvil nodes and PostgreSQL)', () => {
  let devnet: Anvil;
  let chainB: Anvil;
  let database: TestDatabase;
  let app: TestApp;
  let admin: { auth: { Authorization: string } };

  const status = async (key: string): Promise<StatusBody> =>
    (await app.http().get(`/networks/${key}`).expect(200)).body.status as StatusBody;

  const patch = (key: string, body: Record<string, unknown>) =>
    app.http().patch(`/networks/${key}`).set(admin.auth).send(body).expect(200);

  /** Waits until the devnet's pending deposits carry `required` (the monitor applied a PATCH). */
  const requiredIs = (wallet: Hex, required: number) =>
    waitFor(
      async () => {
        const [row] = await app.dataSource.query<{ required_confirmations: number }[]>(
          `SELECT required_confirmations FROM deposits WHERE wallet_address = $1`,
          [wallet],
        );
        return row?.required_confirmations === required ? true : undefined;
      },
      10_000,
      `required_confirmations ${required}`,
    );

  beforeAll(async () => {
    [devnet, chainB] = await Promise.all([startAnvil(), startAnvil({ chainId: 4242 })]);
    database = await createTestDatabase();
    const ds = createDataSource(database.url, 2);
    await ds.initialize();
    await runMigrationsLocked(ds);
    await ds.query(`
      INSERT INTO blockchain_networks
        (key, chain_id, name, native_symbol, native_decimals, required_confirmations, finality_rule, block_time_ms)
      VALUES ('test-b', 4242, 'Test chain B', 'TB', 18, 2, 'confirmations', 1000),
             ('wrong-chain', 5555, 'Wrong chain', 'WC', 18, 2, 'confirmations', 1000)`);
    await ds.destroy();
    app = await startTestApp(
      {
        APP_ROLE: 'all',
        DEVNET_ENABLED: 'false',
        DEVNET_RPC_URL: devnet.wsUrl,
        RPC_URL_TEST_B: chainB.wsUrl,
        RPC_URL_WRONG_CHAIN: devnet.httpUrl,
        ADMIN_EMAILS: 'ops@example.com',
      },
      database,
    );
    admin = await signUp(app, 'ops@example.com');
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
    await Promise.all([devnet?.stop(), chainB?.stop()]);
  });

  it('refuses an endpoint serving another chain id: not followed, reported with the reason', async () => {
    const wrong = await waitFor(
      async () => {
        const s = await status('wrong-chain');
        return s.state === 'error' ? s : undefined;
      },
      10_000,
      'wrong-chain to report its error',
    );
    expect(wrong.error).toMatch(/serves chain id 31337, expected 5555/);
    expect(wrong.cursor_block).toBeNull();
    expect(await cursorOf(app.dataSource, 'wrong-chain')).toBeUndefined();
    expect(app.app.get(MonitorSupervisor).leading()).not.toContain('wrong-chain');
  });

  it('reports each network: following with head, cursor and lag; no endpoint; disabled', async () => {
    await devnet.mine(2);
    await synced(app.dataSource, devnet);
    const head = await devnet.blockNumber();
    const following = await waitFor(async () => {
      const s = await status('devnet');
      return s.cursor_block === head.toString() ? s : undefined;
    });
    expect(following).toEqual({
      state: 'following',
      head_block: head.toString(),
      cursor_block: head.toString(),
      lag_blocks: '0',
      last_block_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      error: null,
    });
    expect(Date.now() - Date.parse(following.last_block_at!)).toBeLessThan(30_000);

    // test-b: its own node (chain id 4242), its endpoint from RPC_URL_TEST_B (the key's '-' as '_').
    const bHead = await chainB.mine(3);
    const b = await waitFor(async () => {
      const s = await status('test-b');
      return s.cursor_block === bHead.toString() ? s : undefined;
    });
    expect(b).toMatchObject({ state: 'following', head_block: bHead.toString(), lag_blocks: '0' });

    expect(await status('sepolia')).toMatchObject({
      state: 'no_endpoint',
      error: expect.stringMatching(/RPC_URL_SEPOLIA/),
    });
    expect((await status('mainnet')).state).toBe('disabled');
    const list = await app.http().get('/networks').expect(200);
    expect(list.body.map((n: { key: string; status: StatusBody }) => [n.key, n.status.state])).toEqual(
      expect.arrayContaining([
        ['devnet', 'following'],
        ['test-b', 'following'],
        ['wrong-chain', 'error'],
      ]),
    );
  });

  it('raising the confirmations makes a pending deposit wait; lowering them completes it at once', async () => {
    const { auth } = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    await sendEth(devnet, { to: wallet, valueWei: 10n });
    await devnet.mine();
    await synced(app.dataSource, devnet);
    expect(await depositsOf(app.dataSource, wallet)).toEqual([
      expect.objectContaining({ status: 'pending', confirmations: 1 }),
    ]);

    await patch('devnet', { required_confirmations: 6 });
    await requiredIs(wallet, 6);
    // 4 confirmations: past the old count (3), short of the new one.
    await devnet.mine(3);
    await synced(app.dataSource, devnet);
    expect(await depositsOf(app.dataSource, wallet)).toEqual([
      expect.objectContaining({ status: 'pending', confirmations: 4 }),
    ]);
    const announced = await eventsOf(app.dataSource, wallet);
    expect(announced.at(-1)).toMatchObject({
      type: 'deposit.confirmation',
      data: { status: 'pending', confirmations: 4, required_confirmations: 6 },
    });

    // Lowered below its depth: completed without another block, announced once.
    await patch('devnet', { required_confirmations: 2 });
    await waitFor(async () =>
      (await depositsOf(app.dataSource, wallet))[0]?.status === 'completed' ? true : undefined,
    );
    const events = await eventsOf(app.dataSource, wallet);
    expect(events.filter((e) => e.type === 'deposit.completed')).toEqual([
      expect.objectContaining({
        data: expect.objectContaining({ confirmations: 4, required_confirmations: 2 }),
      }),
    ]);

    // Raised again: a completed deposit stays completed.
    await patch('devnet', { required_confirmations: 50 });
    const other = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: other }).expect(201);
    await sendEth(devnet, { to: other, valueWei: 11n });
    await devnet.mine(4);
    await synced(app.dataSource, devnet);
    expect((await depositsOf(app.dataSource, wallet))[0].status).toBe('completed');
    expect(await depositsOf(app.dataSource, other)).toEqual([
      expect.objectContaining({ status: 'pending', confirmations: 4 }),
    ]);
    await patch('devnet', { required_confirmations: 3 });
    await waitFor(async () =>
      (await depositsOf(app.dataSource, other))[0]?.status === 'completed' ? true : undefined,
    );
  });

  it('disabling stops the follower (state disabled); enabling resumes from the cursor, nothing missed', async () => {
    const supervisor = app.app.get(MonitorSupervisor);
    const { auth } = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    await synced(app.dataSource, devnet);

    const disabled = await patch('devnet', { enabled: false });
    expect(disabled.body.status.state).toBe('disabled');
    await waitFor(
      () => (supervisor.leading().includes('devnet') ? undefined : true),
      10_000,
      'devnet stopped',
    );
    const stoppedAt = (await cursorOf(app.dataSource))!.number;
    const tx = await sendEth(devnet, { to: wallet, valueWei: 12n });
    await devnet.mine(3);
    // Nothing follows devnet now: the cursor stays where it was while blocks are mined.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await cursorOf(app.dataSource))!.number).toBe(stoppedAt);
    expect(await depositsOf(app.dataSource, wallet)).toEqual([]);

    await patch('devnet', { enabled: true });
    await synced(app.dataSource, devnet);
    expect(supervisor.leading()).toContain('devnet');
    expect(await depositsOf(app.dataSource, wallet)).toEqual([
      expect.objectContaining({ tx_hash: tx, status: 'completed', confirmations: 3 }),
    ]);
    expect((await status('devnet')).state).toBe('following');
  });

  it('an admin-added token is watched from the next block, a removed one no longer', async () => {
    const { auth } = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    const token = await deployTestToken(devnet, { symbol: 'ADM', decimals: 6 });
    await app
      .http()
      .post('/networks/devnet/tokens')
      .set(admin.auth)
      .send({ address: token, symbol: 'ADM', decimals: 6 })
      .expect(201);
    await sendToken(devnet, { token, to: wallet, amount: 5n });
    await devnet.mine();
    await synced(app.dataSource, devnet);
    expect(await depositsOf(app.dataSource, wallet)).toEqual([
      expect.objectContaining({ asset_type: 'erc20', asset_symbol: 'ADM', amount: '5' }),
    ]);

    await app.http().delete(`/networks/devnet/tokens/${token}`).set(admin.auth).expect(204);
    await sendToken(devnet, { token, to: wallet, amount: 7n });
    await devnet.mine();
    await synced(app.dataSource, devnet);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => d.amount)).toEqual(['5']);
  });
});
