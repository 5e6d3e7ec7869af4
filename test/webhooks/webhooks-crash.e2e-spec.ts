import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import type { Hex } from '../../src/common/evm.js';
import { type Anvil, sendEth, startAnvil } from '../helpers/anvil.js';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort, type ServiceProcess, spawnService, waitFor } from '../helpers/process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

/**
 * A service process (`dist/src/main.js`, role all: monitor + API + webhook delivery) killed with
 * SIGKILL while its attempts hang at the receiver; a new process on the same database delivers
 * every event of the deposits — the ones whose attempt was cut off (after their lease), the ones
 * still to be fanned out and the ones committed after the crash — each verified.
 */
describe('Webhook delivery across a SIGKILL', () => {
  let anvil: Anvil;
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  let service: ServiceProcess | undefined;
  let app: TestApp | undefined;
  let answer = false;

  beforeAll(async () => {
    anvil = await startAnvil();
    database = await createTestDatabase();
    receiver = await startWebhookReceiver(() => (answer ? { status: 200 } : { hang: true }));
  }, 60_000);

  afterAll(async () => {
    service?.child.kill('SIGKILL');
    await app?.close();
    await receiver?.close();
    await anvil?.stop();
    await database?.drop();
  });

  it('loses nothing', async () => {
    const env = {
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_TIMEOUT_MS: '1000',
      WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms',
      WEBHOOK_POLL_INTERVAL_MS: '100',
      MONITOR_POLL_INTERVAL_MS: '250',
      ALERTS_ENABLED: 'false',
      DEVNET_RPC_URL: anvil.wsUrl,
    };
    const port = await freePort();
    service = spawnService({
      ...env,
      APP_ROLE: 'all',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: database.url,
      DEVNET_ENABLED: 'false',
      JWT_SECRET: TEST_JWT_SECRET,
    });
    const base = `http://127.0.0.1:${port}`;
    const call = async (path: string, body?: object, token?: string) => {
      const res = await fetch(`${base}${path}`, {
        method: body ? 'POST' : 'GET',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    await waitFor(
      async () => ((await call('/health')).status === 200 ? true : undefined),
      30_000,
      `the service to answer (output: ${service.output()})`,
    );
    const credentials = { email: 'crash@example.com', password: 'correct horse battery' };
    await call('/users', credentials);
    const token = (await call('/auth/login', credentials)).body.access_token as string;
    const address: Hex = `0x${randomBytes(20).toString('hex')}`;
    const start_block = (await anvil.blockNumber()).toString();
    expect((await call('/wallets', { address, start_block }, token)).status).toBe(201);
    const endpoint = await call('/webhooks', { url: receiver.url }, token);
    expect(endpoint.status).toBe(201);
    const secret = endpoint.body.secret as string;

    // Deposits whose first attempts hang at the receiver; then the process dies mid-delivery.
    for (let i = 0; i < 3; i++)
      await sendEth(anvil, { from: i, to: address, valueWei: 10n ** 15n * BigInt(i + 1) });
    await anvil.mine(1);
    await waitFor(() => (receiver.received.length >= 1 ? true : undefined), 20_000, 'an attempt under way');
    await anvil.mine(1);
    service.child.kill('SIGKILL');
    await service.exited;
    service = undefined;

    // While nothing runs: more blocks (confirmations, completions) to be caught up.
    await anvil.mine(3);
    answer = true;
    app = await startTestApp({ ...env, APP_ROLE: 'all' }, database);

    const expected = await waitFor(
      async () => {
        const rows = await app!.dataSource.query<{ id: string; type: string }[]>(
          `SELECT id::text, type FROM event_log WHERE room = $1 ORDER BY id`,
          [address],
        );
        // Each of the 3 deposits detected and completed (updates between depend on timing).
        const completed = rows.filter((r) => r.type === 'deposit.completed').length;
        return completed === 3 ? rows.map((r) => Number(r.id)) : undefined;
      },
      30_000,
      'the monitor to catch up',
    );
    const delivered = await waitFor(
      () => {
        const ids = new Set(
          receiver.received.map(
            (r) =>
              (new Webhook(secret).verify(r.body, r.headers) as { data: { event_id: number } }).data.event_id,
          ),
        );
        return expected.every((id) => ids.has(id)) ? ids : undefined;
      },
      30_000,
      'every event delivered',
    );
    expect([...delivered].sort((a, b) => a - b)).toEqual(expected);
    await waitFor(
      async () => {
        const [row] = await app!.dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM webhook_messages WHERE status <> 'succeeded'`,
        );
        return row.n === 0 ? true : undefined;
      },
      15_000,
      'every message to succeed',
    );
    // The attempts the crash cut off were retried with their webhook-id, after their lease.
    const hungIds = new Set(receiver.received.slice(0, 1).map((r) => r.headers['webhook-id']));
    for (const id of hungIds) {
      expect(receiver.received.filter((r) => r.headers['webhook-id'] === id).length).toBeGreaterThanOrEqual(
        2,
      );
    }
  }, 120_000);
});
