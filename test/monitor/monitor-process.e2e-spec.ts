import { setTimeout as delay } from 'node:timers/promises';

import type { DataSource } from 'typeorm';

import type { Hex } from '../../src/common/evm.js';
import { createDataSource } from '../../src/database/data-source.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';
import { type Anvil, sendEth, startAnvil } from '../helpers/anvil.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { sample } from '../helpers/metrics.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort, type ServiceProcess, spawnService, waitFor } from '../helpers/process.js';
import { randomAddress, synced } from './monitor-helpers.js';

/**
 * The monitor as its own OS process (`dist/src/main.js` with APP_ROLE=monitor; `npm test` builds
 * first), killed with SIGKILL at random moments, and two of them electing a leader.
 */
describe('monitor processes', () => {
  let anvil: Anvil;
  let database: TestDatabase;
  let db: DataSource;
  const running = new Set<ServiceProcess>();
  let wallets: Hex[] = [];
  /** Every deposit sent: tx hash → value. All succeed. */
  const sent = new Map<Hex, bigint>();

  const spawnMonitor = (env: Record<string, string> = {}): ServiceProcess => {
    const service = spawnService({
      ...env,
      APP_ROLE: 'monitor',
      DATABASE_URL: database.url,
      DEVNET_ENABLED: 'false',
      DEVNET_RPC_URL: anvil.wsUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      ALERTS_ENABLED: 'false',
    });
    running.add(service);
    void service.exited.then(() => running.delete(service));
    return service;
  };

  const kill = async (service: ServiceProcess): Promise<void> => {
    service.child.kill('SIGKILL');
    await service.exited;
  };

  const leads = (service: ServiceProcess) => service.output().includes('leading devnet');

  /** A few deposits from random accounts to random wallets, then a block. */
  const burst = async (): Promise<void> => {
    const count = 1 + Math.floor(Math.random() * 4);
    for (let i = 0; i < count; i++) {
      const to = wallets[Math.floor(Math.random() * wallets.length)];
      const valueWei = 1n + BigInt(Math.floor(Math.random() * 1e9));
      sent.set(await sendEth(anvil, { from: i % 10, to, valueWei }), valueWei);
    }
    await anvil.mine();
  };

  /** The deposits table equals the chain: every sent transfer once, in its block, nothing else. */
  const expectExactlyTheChain = async (): Promise<void> => {
    const head = await synced(db, anvil, 30_000);
    const rows: {
      tx_hash: Hex;
      amount: string;
      block_number: string;
      status: string;
      confirmations: number;
    }[] = await db.query(
      `SELECT tx_hash, amount::text AS amount, block_number::text AS block_number, status, confirmations
           FROM deposits WHERE wallet_address = ANY($1)`,
      [wallets],
    );
    expect(rows.map((r) => r.tx_hash).sort()).toEqual([...sent.keys()].sort());
    for (const row of rows) {
      const receipt = await anvil.rpc<{ blockNumber: Hex }>('eth_getTransactionReceipt', [row.tx_hash]);
      expect([row.tx_hash, row.amount, row.block_number]).toEqual([
        row.tx_hash,
        sent.get(row.tx_hash)!.toString(),
        BigInt(receipt.blockNumber).toString(),
      ]);
      const confirmations = head - BigInt(row.block_number) + 1n;
      expect([row.tx_hash, row.status]).toEqual([row.tx_hash, confirmations >= 3n ? 'completed' : 'pending']);
      if (row.status === 'pending') expect(row.confirmations).toBe(Number(confirmations));
    }
    // Each deposit announced once: a crash never lost or repeated an event.
    const detected: { tx: Hex; n: number }[] = await db.query(
      `SELECT payload->>'tx_hash' AS tx, count(*)::int AS n FROM event_log
        WHERE type = 'deposit.detected' AND room = ANY($1) GROUP BY 1`,
      [wallets],
    );
    expect(detected).toHaveLength(sent.size);
    expect(detected.filter((d) => d.n !== 1)).toEqual([]);
  };

  beforeAll(async () => {
    anvil = await startAnvil();
    database = await createTestDatabase();
    db = createDataSource(database.url, 4);
    await db.initialize();
    await runMigrationsLocked(db);
    await db.query(`INSERT INTO users (email, password_hash) VALUES ('processes@example.com', 'x')`);
    wallets = Array.from({ length: 5 }, randomAddress);
    await db.query(
      `INSERT INTO wallets (user_id, address) SELECT u.id, a FROM users u, unnest($1::text[]) AS a`,
      [wallets],
    );
  });

  // Also when a test failed: a monitor left running would hold devnet's leadership in the next one.
  afterEach(async () => {
    await Promise.all([...running].map(kill));
  });

  afterAll(async () => {
    await Promise.all([...running].map(kill));
    await db?.destroy();
    await database?.drop();
    await anvil?.stop();
  });

  it('ends with exactly the chain deposits after SIGKILLs at random moments', async () => {
    let monitor = spawnMonitor();
    await waitFor(() => (leads(monitor) ? true : undefined), 30_000, 'the monitor to lead devnet');
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 3; i++) await burst();
      // A random moment while it works on those blocks (or boots): the crash point.
      await delay(Math.floor(Math.random() * 400));
      await kill(monitor);
      // The chain moves on while no monitor runs.
      await burst();
      monitor = spawnMonitor();
      if (round % 2 === 1) await waitFor(() => (leads(monitor) ? true : undefined), 30_000, 'restart');
    }
    await burst();
    await expectExactlyTheChain().catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- last monitor output ---\n${monitor.output().slice(-4000)}`);
    });
  }, 120_000);

  it('runs one leader per network; a standby takes over within seconds of a kill -9', async () => {
    // Each monitor process serves its own /metrics and /health/* on METRICS_PORT.
    const ports = [await freePort(), await freePort()];
    const first = spawnMonitor({ METRICS_PORT: String(ports[0]), HOST: '127.0.0.1' });
    await waitFor(() => (leads(first) ? true : undefined), 30_000, 'the first monitor to lead');
    const second = spawnMonitor({ METRICS_PORT: String(ports[1]), HOST: '127.0.0.1' });
    await waitFor(
      () => (second.output().includes('standby for devnet') ? true : undefined),
      30_000,
      'the second monitor to stand by',
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- output ---\n${second.output().slice(-4000)}`);
    });
    await burst();
    await synced(db, anvil);
    expect(leads(second)).toBe(false);
    const [holders] = await db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1
          AND a.datname = current_database()`,
      [`cdm-monitor-lock:devnet`],
    );
    expect(holders?.n).toBe(1);
    const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const followerUp = async (port: number) =>
      sample(await scrape(port), 'deposit_monitor_follower_up', { network: 'devnet' });
    await waitFor(
      async () => ((await followerUp(ports[0])) === 1 ? true : undefined),
      10_000,
      'the leader up',
    );
    expect(await followerUp(ports[1])).toBe(0); // a standby: alert on the maximum over processes
    for (const port of ports) expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    // Only what a monitor serves: no API there.
    expect((await fetch(`http://127.0.0.1:${ports[1]}/networks`)).status).toBe(404);

    await kill(first);
    const killedAt = Date.now();
    // Deposits made while nobody leads are picked up by the new leader.
    await burst();
    await waitFor(() => (leads(second) ? true : undefined), 15_000, 'the standby to take over');
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(10_000);
    await burst();
    await expectExactlyTheChain();
  }, 90_000);

  it('watches a wallet another process adds while it runs, without a restart', async () => {
    await Promise.all([...running].map(kill));
    const monitor = spawnMonitor();
    await waitFor(() => (leads(monitor) ? true : undefined), 30_000, 'the monitor to lead');
    await synced(db, anvil);
    const added = randomAddress();
    // This test process plays the API: the wallet row is committed from another process.
    await db.query(`INSERT INTO wallets (user_id, address) SELECT id, $1 FROM users LIMIT 1`, [added]);
    const tx = await sendEth(anvil, { to: added, valueWei: 42n });
    await anvil.mine();
    await synced(db, anvil);
    const rows: { tx_hash: string; amount: string }[] = await db.query(
      `SELECT tx_hash, amount::text AS amount FROM deposits WHERE wallet_address = $1`,
      [added],
    );
    expect(rows).toEqual([{ tx_hash: tx, amount: '42' }]);
  }, 60_000);
});
