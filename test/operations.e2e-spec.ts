import { randomBytes } from 'node:crypto';

import pg from 'pg';

import type { Hex } from '../src/common/evm.js';
import { type Anvil, receiptOf, sendEth, startAnvil } from './helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from './helpers/app.js';
import { sample } from './helpers/metrics.js';
import { freePort, waitFor } from './helpers/process.js';
import { cursorOf, depositsOf, eventsOf } from './monitor/monitor-helpers.js';

describe('Operations: metrics and readiness of a real app on a real chain', () => {
  let anvil: Anvil;
  let app: TestApp;

  const metrics = async () => (await app.http().get('/metrics').expect(200)).text;

  beforeAll(async () => {
    // A block every second: heads keep coming, as on a live chain.
    anvil = await startAnvil({ blockTime: 1 });
    app = await startTestApp({
      APP_ROLE: 'all',
      DEVNET_RPC_URL: anvil.wsUrl,
      MONITOR_POLL_INTERVAL_MS: '250',
      MONITOR_STALL_TIMEOUT_MS: '3000',
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await anvil?.stop();
  });

  it('moves the chain and deposit figures when a devnet deposit lands', async () => {
    const user = await signUp(app);
    const address: Hex = `0x${randomBytes(20).toString('hex')}`;
    await app.http().post('/wallets').set(user.auth).send({ address }).expect(201);
    const devnet = { network: 'devnet' };
    const native = { network: 'devnet', asset_type: 'native' };
    const before = await metrics();
    const detected0 = sample(before, 'deposit_monitor_deposits_total', { ...native, event: 'detected' }) ?? 0;
    const completed0 =
      sample(before, 'deposit_monitor_deposits_total', { ...native, event: 'completed' }) ?? 0;

    const tx = await sendEth(anvil, { to: address, valueWei: 10n ** 18n });
    const receipt = await receiptOf(anvil, tx);
    const block = Number(BigInt(receipt.blockNumber));
    const after = await waitFor(
      async () => {
        const text = await metrics();
        const completed =
          sample(text, 'deposit_monitor_deposits_total', { ...native, event: 'completed' }) ?? 0;
        return completed > completed0 ? text : undefined;
      },
      30_000,
      'the deposit to complete in /metrics',
    );
    expect(sample(after, 'deposit_monitor_deposits_total', { ...native, event: 'detected' })).toBe(
      detected0 + 1,
    );
    expect(sample(after, 'deposit_monitor_chain_head_block', devnet)).toBeGreaterThanOrEqual(block + 2);
    expect(sample(after, 'deposit_monitor_cursor_block', devnet)).toBeGreaterThanOrEqual(block + 2);
    expect(sample(after, 'deposit_monitor_lag_blocks', devnet)).toBeGreaterThanOrEqual(0);
    expect(sample(after, 'deposit_monitor_follower_up', devnet)).toBe(1);
    // Seeded networks without an endpoint are enabled but followed by nobody: 0, for the alert.
    expect(sample(after, 'deposit_monitor_follower_up', { network: 'sepolia' })).toBe(0);
    expect(sample(after, 'deposit_monitor_detection_seconds_count', devnet)).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'deposit_monitor_events_emitted_total', { type: 'deposit_detected' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'deposit_monitor_events_emitted_total', { type: 'deposit_completed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(after, 'deposit_monitor_rpc_requests_total', {
        network: 'devnet',
        method: 'eth_getBlockByHash',
        outcome: 'ok',
      }),
    ).toBeGreaterThan(0);
    expect(
      sample(after, 'deposit_monitor_commit_seconds_count', { operation: 'commit_blocks', phase: 'total' }),
    ).toBeGreaterThan(0);
    expect(sample(after, 'deposit_monitor_socket_clients')).toBe(0);
    expect(sample(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('is ready while following, and answers 503 naming the stalled follower while its commits wait on a lock', async () => {
    await app.http().get('/health/live').expect(200, { status: 'ok', info: {}, error: {}, details: {} });
    const ready = await app.http().get('/health/ready').expect(200);
    expect(ready.body.info.database.status).toBe('up');
    expect(ready.body.info.followers.devnet).toMatch(/^following/);

    // Another writer holds the cursor row: the follower sees heads but cannot commit them.
    const blocker = new pg.Client({ connectionString: app.database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `SELECT 1 FROM chain_cursors c JOIN blockchain_networks n ON n.id = c.network_id
          WHERE n.key = 'devnet' FOR UPDATE OF c`,
      );
      const notReady = await waitFor(
        async () => {
          const res = await app.http().get('/health/ready');
          return res.status === 503 ? res.body : undefined;
        },
        20_000,
        'readiness to fail',
      );
      expect(notReady.status).toBe('error');
      expect(Object.keys(notReady.error)).toEqual(['followers']);
      expect(notReady.error.followers.status).toBe('down');
      expect(notReady.error.followers.devnet).toMatch(/^stalled/);
      expect(notReady.info.database.status).toBe('up');
      expect(sample(await metrics(), 'deposit_monitor_follower_up', { network: 'devnet' })).toBe(0);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await waitFor(
      async () => ((await app.http().get('/health/ready')).status === 200 ? true : undefined),
      20_000,
      'readiness to come back',
    );
    // /health answers as before.
    await app.http().get('/health').expect(200, { status: 'ok', database: 'up' });
  });

  it('commits blocks while the settle waits on a pending deposit, and is not ready until the deposit settles', async () => {
    const user = await signUp(app);
    const address: Hex = `0x${randomBytes(20).toString('hex')}`;
    await app.http().post('/wallets').set(user.auth).send({ address }).expect(201);
    const tx = await sendEth(anvil, { to: address, valueWei: 10n ** 18n });
    const deposit = await waitFor(
      async () => (await depositsOf(app.dataSource, address)).find((d) => d.tx_hash === tx),
      20_000,
      'the deposit',
    );

    // Another writer holds the pending deposit's row: every settle from now on waits on it.
    const blocker = new pg.Client({ connectionString: app.database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM deposits WHERE id = $1 FOR UPDATE`, [deposit.id]);
      const from = (await cursorOf(app.dataSource))!.number;
      const notReady = await waitFor(
        async () => {
          const res = await app.http().get('/health/ready');
          return res.status === 503 ? res.body : undefined;
        },
        20_000,
        'readiness to fail',
      );
      expect(notReady.error.followers.devnet).toMatch(/^stalled/);
      // The blocks mined meanwhile (one a second) were committed all the same: a head's deposits
      // never wait for the previous blocks' settle.
      expect((await cursorOf(app.dataSource))!.number).toBeGreaterThan(from + 1n);
      const [held] = (await depositsOf(app.dataSource, address)).filter((d) => d.tx_hash === tx);
      expect(held.status).toBe('pending');
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
    await waitFor(
      async () => ((await app.http().get('/health/ready')).status === 200 ? true : undefined),
      20_000,
      'readiness to come back',
    );
    await waitFor(
      async () => (await depositsOf(app.dataSource, address)).find((d) => d.status === 'completed'),
      20_000,
      'the deposit to complete',
    );
    // Each change announced once, in order, whatever the settles that waited counted.
    const events = await eventsOf(app.dataSource, address);
    expect(events[0].type).toBe('deposit.detected');
    expect(events.at(-1)?.type).toBe('deposit.completed');
    expect(events.slice(1, -1).every((e) => e.type === 'deposit.confirmation')).toBe(true);
    const counts = events.map((e) => e.data.confirmations);
    expect(counts.every((c, i) => i === 0 || c > counts[i - 1])).toBe(true);
  });
});

describe('Operations: token, feed readiness', () => {
  it('protects /metrics with METRICS_TOKEN when it is set', async () => {
    const token = 'scrape-token-0123456789';
    const app = await startTestApp({ METRICS_TOKEN: token });
    try {
      await app.http().get('/metrics').expect(401);
      await app.http().get('/metrics').set('Authorization', 'Bearer wrong-token-0123456789').expect(401);
      const res = await app.http().get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(res.text).toContain('# TYPE deposit_monitor_deposits_total counter');
      // Health stays open to probes.
      await app.http().get('/health/live').expect(200);
    } finally {
      await app.close();
    }
  });

  it('answers 503 naming the price feed while the exchange is unreachable', async () => {
    const closed = await freePort();
    const app = await startTestApp({ ALERTS_ENABLED: 'true', BINANCE_WS_URL: `ws://127.0.0.1:${closed}` });
    try {
      const res = await app.http().get('/health/ready').expect(503);
      expect(res.body.error.price_feed).toMatchObject({
        status: 'down',
        connected: false,
        last_message_at: null,
      });
      expect(res.body.info.database.status).toBe('up');
      expect(
        sample((await app.http().get('/metrics').expect(200)).text, 'deposit_monitor_price_feed_up'),
      ).toBe(0);
    } finally {
      await app.close();
    }
  });
});
