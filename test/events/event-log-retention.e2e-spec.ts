import { walletRoom } from '../../src/events/domain-events.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/process.js';
import { randomAddress } from '../monitor/monitor-helpers.js';
import { commitAndPublish, depositData, depositEvent } from '../realtime/events.js';
import { connectClient, type TestClient } from '../realtime/realtime-client.js';

/** More than two of the retention's batches (5,000). */
const OLD_EVENTS = 12_001;

describe('Event log retention (EVENT_LOG_RETENTION_DAYS)', () => {
  let database: TestDatabase;
  let app: TestApp | undefined;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await app?.close();
    await database?.drop();
  });

  it('deletes at start the events older than that, and a replay from before them says it is incomplete (socket and webhook)', async () => {
    // Written with the retention off, then read back by a process started with 30 days.
    const env = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true' };
    app = await startTestApp({ ...env, EVENT_LOG_RETENTION_DAYS: '0' }, database);
    const user = await signUp(app);
    const wallet = randomAddress();
    await app.http().post('/wallets').set(user.auth).send({ address: wallet }).expect(201);
    await app.dataSource.query(
      `INSERT INTO event_log (type, room, payload, created_at)
       SELECT 'deposit.confirmation', $1, $2::json, now() - interval '40 days' FROM generate_series(1, $3)`,
      [walletRoom(wallet), JSON.stringify(depositData(wallet)), OLD_EVENTS],
    );
    const young = (
      await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(wallet)),
        depositEvent('deposit.confirmation', depositData(wallet)),
        depositEvent('deposit.completed', depositData(wallet)),
      ])
    ).map((e) => e.id);
    // The webhook fan-out passes them all (the retention never deletes an event before it has).
    const cursor = async () =>
      Number(
        (await app!.dataSource.query<{ id: string }[]>(`SELECT last_event_id AS id FROM webhook_cursor`))[0]
          .id,
      );
    await waitFor(async () => ((await cursor()) >= young[2] ? true : undefined), 10_000, 'the fan-out');
    await app.close();

    app = await startTestApp({ ...env, EVENT_LOG_RETENTION_DAYS: '30' }, database);
    const remaining = async () =>
      (await app!.dataSource.query<{ id: string }[]>(`SELECT id FROM event_log ORDER BY id`)).map((r) =>
        Number(r.id),
      );
    await waitFor(async () => ((await remaining()).length === 3 ? true : undefined), 20_000, 'the retention');
    expect(await remaining()).toEqual(young);
    const [{ horizon }] = await app.dataSource.query<{ horizon: string }[]>(
      `SELECT pruned_through AS horizon FROM event_log_horizon`,
    );
    // Every old event went (ids 1 … OLD_EVENTS), and nothing after them.
    expect(Number(horizon)).toBe(young[0] - 1);
    expect(Number(horizon)).toBeGreaterThanOrEqual(OLD_EVENTS);

    // The token from before the restart still holds (the same JWT secret).
    const subscribe = async (since: number) => {
      const client = await connectClient(app!.baseUrl, { token: user.token });
      clients.push(client);
      const ack = await client.request('subscribe', { wallet_address: wallet, since_event_id: since });
      return { client, ack };
    };
    // From before the horizon: the three events that are left, then the notice, and the ack says so.
    const early = await subscribe(0);
    expect(early.ack).toEqual({ ok: true, replayed: 3, truncated: true });
    await waitFor(() => (early.client.received.length >= 4 ? true : undefined), 5_000, 'the replay');
    expect(early.client.received.map((r) => r.name)).toEqual([
      'deposit_detected',
      'confirmation_update',
      'deposit_completed',
      'replay_truncated',
    ]);
    expect(early.client.received[3].payload).toEqual({
      wallet_address: wallet.toLowerCase(),
      since_event_id: 0,
      pruned_through_event_id: Number(horizon),
    });
    // From the horizon itself: nothing after it was deleted.
    const exact = await subscribe(Number(horizon));
    expect(exact.ack).toEqual({ ok: true, replayed: 3, truncated: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(exact.client.received.map((r) => r.name)).not.toContain('replay_truncated');
    expect(exact.client.ids()).toEqual(young);

    // A webhook replay says the same.
    const endpoint = (
      await app.http().post('/webhooks').set(user.auth).send({ url: 'http://127.0.0.1:9/hook' }).expect(201)
    ).body.id as string;
    const replay = async (since: number) =>
      (
        await app!
          .http()
          .post(`/webhooks/${endpoint}/replay`)
          .set(user.auth)
          .send({ since_event_id: since })
          .expect(202)
      ).body as unknown;
    expect(await replay(0)).toEqual({ queued: 3, continue_after_event_id: null, truncated: true });
    expect(await replay(Number(horizon))).toEqual({
      queued: 3,
      continue_after_event_id: null,
      truncated: false,
    });
  });
});
