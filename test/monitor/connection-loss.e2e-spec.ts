import type { Hex } from '../../src/common/evm.js';
import { ChainFollower } from '../../src/monitor/chain-follower.js';
import { MonitorSupervisor } from '../../src/monitor/monitor.supervisor.js';
import { type Anvil, sendEth, startAnvil } from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/process.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cursorOf, depositsOf, eventsOf, randomAddress, synced } from './monitor-helpers.js';

describe(`${ChainFollower.name} after lost connections and deep reorgs (window of 8 blocks)`, () => {
  let anvil: Anvil;
  let proxy: TcpProxy;
  let app: TestApp;

  beforeAll(async () => {
    anvil = await startAnvil();
    proxy = await startTcpProxy({ port: anvil.port });
    app = await startTestApp({
      APP_ROLE: 'all',
      DEVNET_ENABLED: 'false',
      DEVNET_RPC_URL: proxy.wsUrl,
      MONITOR_POLL_INTERVAL_MS: '200',
      MONITOR_STALL_TIMEOUT_MS: '2000',
      MONITOR_WINDOW_SIZE: '8',
    });
    await anvil.mine();
    await synced(app.dataSource, anvil);
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await anvil?.stop();
  });

  it('backfills, in order and once, the blocks mined while the node was unreachable', async () => {
    const { auth } = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    const sent: Hex[] = [await sendEth(anvil, { to: wallet, valueWei: 1n })];
    await anvil.mine();
    await synced(app.dataSource, anvil);

    proxy.cut();
    const before = (await cursorOf(app.dataSource))!.number;
    for (let i = 0; i < 4; i++) {
      sent.push(await sendEth(anvil, { from: i, to: wallet, valueWei: 2n + BigInt(i) }));
      await anvil.mine(2);
    }
    expect((await cursorOf(app.dataSource))!.number).toBe(before);

    proxy.restore();
    await synced(app.dataSource, anvil, 30_000);
    const rows = await depositsOf(app.dataSource, wallet);
    expect(rows.map((d) => d.tx_hash)).toEqual(sent);
    const events = await eventsOf(app.dataSource, wallet);
    const detected = events.filter((e) => e.type === 'deposit.detected');
    expect(detected.map((e) => e.data.tx_hash)).toEqual(sent);
    // The gap is caught up in batches that settle in their own transaction: a deposit whose block
    // is already 3 deep is written completed at once. Each row's state is the cursor's rule, and
    // each deposit is announced detected once and, when completed, completed once, in that order.
    const head = (await cursorOf(app.dataSource))!.number;
    for (const row of rows) {
      const deep = head - BigInt(row.block_number) + 1n >= 3n;
      expect([row.tx_hash, row.status]).toEqual([row.tx_hash, deep ? 'completed' : 'pending']);
      const types = events.filter((e) => e.data.tx_hash === row.tx_hash).map((e) => e.type);
      expect(types.filter((t) => t !== 'deposit.confirmation')).toEqual(
        deep ? ['deposit.detected', 'deposit.completed'] : ['deposit.detected'],
      );
    }
    // The blocks mined meanwhile hold 4 deposits; at least the first 3 are deep by now.
    expect(rows.filter((d) => d.status === 'completed').length).toBeGreaterThanOrEqual(4);
  });

  it('stops following when its lock connection dies, then leads again and misses nothing', async () => {
    const supervisor = app.app.get(MonitorSupervisor);
    const { auth } = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    expect(supervisor.leading()).toEqual(['devnet']);

    await app.dataSource.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cdm-monitor-lock:devnet'
        AND datname = current_database()`,
    );
    await waitFor(
      () => (supervisor.leading().length === 0 ? true : undefined),
      5_000,
      'the follower to stop',
    );
    const tx = await sendEth(anvil, { to: wallet, valueWei: 3n });
    await anvil.mine();
    await waitFor(() => (supervisor.leading().length === 1 ? true : undefined), 10_000, 'leading again');
    await synced(app.dataSource, anvil);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => d.tx_hash)).toEqual([tx]);
  });

  it('resolves a reorg deeper than the window by rescanning: orphans exactly the dropped deposits', async () => {
    const { auth } = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(auth).send({ address: wallet }).expect(201);
    const kept = await sendEth(anvil, { to: wallet, valueWei: 1n });
    await anvil.mine();
    await anvil.mine(3);
    const dropped = await sendEth(anvil, { to: wallet, valueWei: 2n });
    await anvil.mine();
    await anvil.mine(9);
    await synced(app.dataSource, anvil);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => d.status)).toEqual([
      'completed',
      'completed',
    ]);

    // The dropped deposit is 10 blocks deep; the window holds 8.
    await anvil.reorg(11);
    await waitFor(async () => {
      const rows = await depositsOf(app.dataSource, wallet);
      return rows.find((d) => d.tx_hash === dropped)?.status === 'orphaned' ? rows : undefined;
    }, 20_000);
    await synced(app.dataSource, anvil);
    const byTx = new Map((await depositsOf(app.dataSource, wallet)).map((d) => [d.tx_hash, d.status]));
    expect(byTx).toEqual(
      new Map([
        [kept, 'completed'],
        [dropped, 'orphaned'],
      ]),
    );
    // The window is whole again: the next block is followed normally.
    const next = await sendEth(anvil, { to: wallet, valueWei: 3n });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => d.tx_hash)).toContain(next);
  });
});

describe(`${ChainFollower.name} at a restart, behind a head read that answers late`, () => {
  let anvil: Anvil;
  let proxy: TcpProxy;
  let database: TestDatabase;
  const apps: TestApp[] = [];
  const env = {
    APP_ROLE: 'all',
    DEVNET_ENABLED: 'false',
    // One block a transaction: the catch-up is still running when the late answer arrives, on any machine.
    MONITOR_BACKFILL_BATCH: '1',
    MONITOR_STALL_TIMEOUT_MS: '120000',
  };

  beforeAll(async () => {
    anvil = await startAnvil();
    proxy = await startTcpProxy({ port: anvil.port });
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const app of apps.splice(0)) await app.app.close();
    await database?.drop();
    await proxy?.close();
    await anvil?.stop();
  });

  it('catches up to the newest head, not to an older one the late read answered', async () => {
    // CI saw a restarted monitor stop short of the head for 30 s (until its stall watchdog): its
    // first head read, over HTTP while the socket opened, answered after the subscription had
    // pushed the next block, and the follower took that older head as its target.
    const first = await startTestApp({ ...env, DEVNET_RPC_URL: proxy.wsUrl }, database);
    apps.push(first);
    await anvil.mine();
    await synced(first.dataSource, anvil);
    await first.app.close();
    apps.splice(apps.indexOf(first), 1);

    // The chain moves on while no monitor runs; the restarted one reads the head over HTTP first.
    const behind = await anvil.mine(600);
    // Under the 1 s the devnet check allows its eth_chainId at boot.
    proxy.delayAnswers('http', 700);
    const restarted = await startTestApp({ ...env, DEVNET_RPC_URL: proxy.wsUrl }, database);
    apps.push(restarted);
    const supervisor = restarted.app.get(MonitorSupervisor);
    await waitFor(() => (supervisor.leading().length > 0 ? true : undefined), 10_000, 'leadership');
    // The read of head `behind` has reached the node by now; the next block is pushed before its answer.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await anvil.mine()).toBe(behind + 1n);
    // Still catching up (a block a transaction) when the late answer has arrived.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await cursorOf(restarted.dataSource))!.number).toBeLessThan(behind);
    await synced(restarted.dataSource, anvil, 15_000);
    proxy.delayAnswers('http', 0);
  });
});
