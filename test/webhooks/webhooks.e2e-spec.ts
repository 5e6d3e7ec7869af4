import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import { WebhooksRepository } from '../../src/webhooks/webhooks.repository.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { sample } from '../helpers/metrics.js';
import { waitFor } from '../helpers/process.js';
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';

type User = Awaited<ReturnType<typeof signUp>>;

interface Delivery {
  message_id: string;
  event_type: string;
  status: string;
  next_attempt_at: string | null;
  attempts: { status_code: number | null; latency_ms: number; error: string | null; attempted_at: string }[];
}

/**
 * The webhooks API and delivery against real local HTTP receivers and a real PostgreSQL: messages
 * come from POST /webhooks/{id}/test here (deposit events: webhooks-deposits.e2e-spec.ts).
 */
describe('Webhooks', () => {
  let app: TestApp;
  let user: User;
  const receivers: WebhookReceiver[] = [];

  const receiver = async (respond?: WebhookReceiver['respond']) => {
    const r = await startWebhookReceiver(respond);
    receivers.push(r);
    return r;
  };
  const createEndpoint = async (url: string, owner: User = user, extra: object = {}) => {
    const res = await app
      .http()
      .post('/webhooks')
      .set(owner.auth)
      .send({ url, ...extra })
      .expect(201);
    return res.body as { id: string; secret: string; enabled: boolean; disabled_reason: string | null };
  };
  const sendTest = async (id: string) =>
    (await app.http().post(`/webhooks/${id}/test`).set(user.auth).expect(202)).body.message_id as string;
  const deliveries = async (id: string, owner: User = user): Promise<Delivery[]> =>
    (await app.http().get(`/webhooks/${id}/deliveries`).set(owner.auth).expect(200)).body.items;
  const until = <T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 15_000) =>
    waitFor(check, ms, what);
  const verify = (secret: string, r: ReceivedWebhook) => new Webhook(secret).verify(r.body, r.headers);

  beforeAll(async () => {
    app = await startTestApp({
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '150ms,150ms,150ms',
      WEBHOOK_TIMEOUT_MS: '400',
      WEBHOOK_POLL_INTERVAL_MS: '50',
      WEBHOOK_MAX_ENDPOINTS_PER_USER: '15',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
    });
    user = await signUp(app);
  });

  afterAll(async () => {
    for (const r of receivers) await r.close();
    await app?.close();
  });

  it('creates, lists, reads, changes and deletes an endpoint; the secret shows only at creation', async () => {
    const created = await createEndpoint('http://127.0.0.1:9/hook', user, {
      event_types: ['deposit_completed'],
      description: 'ledger',
    });
    expect(created.secret).toMatch(/^whsec_/);
    const got = await app.http().get(`/webhooks/${created.id}`).set(user.auth).expect(200);
    expect(got.body).toMatchObject({
      id: created.id,
      url: 'http://127.0.0.1:9/hook',
      event_types: ['deposit_completed'],
      wallet_ids: null,
      description: 'ledger',
      enabled: true,
    });
    expect(got.body.secret).toBeUndefined();
    const listed = await app.http().get('/webhooks').set(user.auth).expect(200);
    expect(listed.body.map((e: { id: string }) => e.id)).toContain(created.id);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
    const patched = await app
      .http()
      .patch(`/webhooks/${created.id}`)
      .set(user.auth)
      .send({ event_types: null, enabled: false, description: null })
      .expect(200);
    expect(patched.body).toMatchObject({ event_types: null, enabled: false, description: null });
    await app.http().delete(`/webhooks/${created.id}`).set(user.auth).expect(204);
    await app.http().get(`/webhooks/${created.id}`).set(user.auth).expect(404);
  });

  it('answers 404 for another user’s endpoint on every route', async () => {
    const other = await signUp(app);
    const theirs = await createEndpoint('http://127.0.0.1:9/theirs', other);
    const id = theirs.id;
    await app.http().get(`/webhooks/${id}`).set(user.auth).expect(404);
    await app.http().patch(`/webhooks/${id}`).set(user.auth).send({ enabled: false }).expect(404);
    await app.http().post(`/webhooks/${id}/rotate-secret`).set(user.auth).expect(404);
    await app.http().post(`/webhooks/${id}/test`).set(user.auth).expect(404);
    await app.http().get(`/webhooks/${id}/deliveries`).set(user.auth).expect(404);
    await app.http().post(`/webhooks/${id}/replay`).set(user.auth).send({ since_event_id: 0 }).expect(404);
    await app
      .http()
      .post(`/webhooks/${id}/deliveries/msg_${'0'.repeat(32)}/redeliver`)
      .set(user.auth)
      .expect(404);
    await app.http().delete(`/webhooks/${id}`).set(user.auth).expect(404);
    await app.http().get(`/webhooks/${id}`).set(other.auth).expect(200);
    const mine = await app.http().get('/webhooks').set(user.auth).expect(200);
    expect(mine.body.map((e: { id: string }) => e.id)).not.toContain(id);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const post = (body: object) => app.http().post('/webhooks').set(user.auth).send(body).expect(400);
    expect((await post({ url: 'ftp://example.com' })).body.message).toContain('url must use http or https');
    expect((await post({})).body.message).toEqual(expect.arrayContaining([expect.stringContaining('url')]));
    expect((await post({ url: 'http://127.0.0.1:9', event_types: ['deposit_made'] })).body.message).toEqual(
      expect.arrayContaining([expect.stringContaining('event_types must each be one of')]),
    );
    const foreignWallet = '3f1c1b5e-4b7a-4f55-9a55-0c1f0f5c9d11';
    expect((await post({ url: 'http://127.0.0.1:9', wallet_ids: [foreignWallet] })).body.message).toBe(
      `wallet_ids: ${foreignWallet} is not one of your wallets`,
    );
    expect((await post({ url: 'http://127.0.0.1:9', secret: 'mine' })).body.message).toEqual(
      expect.arrayContaining([expect.stringContaining('secret')]),
    );
    await app.http().get('/webhooks/not-a-uuid').set(user.auth).expect(400);
    await app
      .http()
      .post(`/webhooks/${foreignWallet}/replay`)
      .set(user.auth)
      .send({ since_event_id: '12' })
      .expect(400);
    await app.http().post('/webhooks').send({ url: 'http://127.0.0.1:9' }).expect(401);
  });

  it('holds each user to WEBHOOK_MAX_ENDPOINTS_PER_USER', async () => {
    const limited = await signUp(app);
    await Promise.all(Array.from({ length: 15 }, () => createEndpoint('http://127.0.0.1:9/x', limited)));
    const refused = await app
      .http()
      .post('/webhooks')
      .set(limited.auth)
      .send({ url: 'http://127.0.0.1:9/x' })
      .expect(409);
    expect(refused.body.message).toContain('WEBHOOK_MAX_ENDPOINTS_PER_USER');
  });

  it('delivers a test message signed per Standard Webhooks, and logs the attempt', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url);
    const messageId = await sendTest(endpoint.id);
    const got = await until('the test message', () => r.received[0]);
    expect(got.headers['webhook-id']).toBe(messageId);
    expect(got.headers['content-type']).toBe('application/json');
    expect(verify(endpoint.secret, got)).toMatchObject({
      type: 'webhook_test',
      data: { webhook_endpoint_id: endpoint.id },
    });
    const [delivery] = await until('the log', async () =>
      (await deliveries(endpoint.id)).find((d) => d.status === 'succeeded')
        ? deliveries(endpoint.id)
        : undefined,
    );
    expect(delivery).toMatchObject({
      message_id: messageId,
      event_type: 'webhook_test',
      next_attempt_at: null,
    });
    expect(delivery.attempts).toEqual([
      expect.objectContaining({ status_code: 200, error: null, latency_ms: expect.any(Number) }),
    ]);
  });

  it('retries a receiver that fails three times with the same webhook-id, and logs every attempt', async () => {
    const counted = async (outcome: string) =>
      sample((await app.http().get('/metrics').expect(200)).text, 'deposit_monitor_notifications_total', {
        channel: 'webhook',
        outcome,
      }) ?? 0;
    const [failedBefore, sentBefore] = [await counted('failed'), await counted('sent')];
    const r = await receiver((_, n) => (n < 3 ? { status: 500, body: 'down' } : { status: 204 }));
    const endpoint = await createEndpoint(r.url);
    const messageId = await sendTest(endpoint.id);
    await until('the fourth attempt', () => (r.received.length >= 4 ? true : undefined));
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual(Array(4).fill(messageId));
    for (const x of r.received) expect(() => verify(endpoint.secret, x)).not.toThrow();
    // Jittered 150 ms ±10 % between attempts.
    for (let i = 1; i < 4; i++)
      expect(r.received[i].receivedAt - r.received[i - 1].receivedAt).toBeGreaterThanOrEqual(120);
    const [delivery] = await until('the log', async () => {
      const items = await deliveries(endpoint.id);
      return items[0]?.status === 'succeeded' ? items : undefined;
    });
    expect(delivery.attempts.map((a) => [a.status_code, a.error])).toEqual([
      [500, 'HTTP 500: down'],
      [500, 'HTTP 500: down'],
      [500, 'HTTP 500: down'],
      [204, null],
    ]);
    // Every attempt is counted in /metrics, by outcome (other tests' attempts may add to it meanwhile).
    expect((await counted('failed')) - failedBefore).toBeGreaterThanOrEqual(3);
    expect((await counted('sent')) - sentBefore).toBeGreaterThanOrEqual(1);
  });

  it('times out a slow receiver without stalling another endpoint', async () => {
    const slow = await receiver((_, n) => (n < 2 ? { status: 200, delayMs: 2000 } : { status: 200 }));
    const fast = await receiver();
    const slowEndpoint = await createEndpoint(slow.url);
    const fastEndpoint = await createEndpoint(fast.url);
    await sendTest(slowEndpoint.id);
    await sendTest(slowEndpoint.id);
    await until('both slow attempts under way', () => (slow.received.length >= 2 ? true : undefined));
    const started = Date.now();
    await sendTest(fastEndpoint.id);
    await until('the fast endpoint', () => fast.received[0]);
    expect(Date.now() - started).toBeLessThan(1000);
    const items = await until('the slow ones to succeed on retry', async () => {
      const list = await deliveries(slowEndpoint.id);
      return list.length === 2 && list.every((d) => d.status === 'succeeded') ? list : undefined;
    });
    for (const d of items) {
      expect(d.attempts[0]).toMatchObject({ status_code: null, error: 'timed out after 400 ms' });
      expect(d.attempts.at(-1)).toMatchObject({ status_code: 200, error: null });
    }
  });

  it('records a receiver that closes the connection and retries it', async () => {
    const r = await receiver((_, n) => (n === 0 ? { destroy: true } : { status: 200 }));
    const endpoint = await createEndpoint(r.url);
    const messageId = await sendTest(endpoint.id);
    const [delivery] = await until('success after the reset', async () => {
      const items = await deliveries(endpoint.id);
      return items[0]?.status === 'succeeded' ? items : undefined;
    });
    expect(delivery.attempts).toHaveLength(2);
    expect(delivery.attempts[0].status_code).toBeNull();
    expect(delivery.attempts[0].error).toMatch(/socket hang up|ECONNRESET/);
    expect(r.received.map((x) => x.headers['webhook-id'])).toEqual([messageId, messageId]);
  });

  it('does not follow a redirect', async () => {
    const target = await receiver();
    const r = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const endpoint = await createEndpoint(r.url);
    await sendTest(endpoint.id);
    const [delivery] = await until('the schedule to run out', async () => {
      const items = await deliveries(endpoint.id);
      return items[0]?.status === 'failed' ? items : undefined;
    });
    expect(delivery.attempts).toHaveLength(4);
    expect(delivery.attempts[0]).toMatchObject({
      status_code: 302,
      error: `redirect to ${target.url} not followed`,
    });
    expect(target.received).toHaveLength(0);
  });

  it('disables an endpoint whose message failed its whole schedule, with the reason, until re-enabled', async () => {
    let up = false;
    const r = await receiver(() => (up ? { status: 200 } : { status: 503, body: 'maintenance' }));
    const endpoint = await createEndpoint(r.url);
    const messageId = await sendTest(endpoint.id);
    const disabled = await until('the endpoint to be disabled', async () => {
      const res = await app.http().get(`/webhooks/${endpoint.id}`).set(user.auth).expect(200);
      return res.body.enabled === false ? res.body : undefined;
    });
    expect(disabled.disabled_reason).toContain(`message ${messageId}, 4 attempts`);
    expect(disabled.disabled_reason).toContain('HTTP 503: maintenance');
    expect(r.received).toHaveLength(4);
    const refused = await app.http().post(`/webhooks/${endpoint.id}/test`).set(user.auth).expect(409);
    expect(refused.body.message).toContain('disabled');

    up = true;
    const enabled = await app
      .http()
      .patch(`/webhooks/${endpoint.id}`)
      .set(user.auth)
      .send({ enabled: true })
      .expect(200);
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
    // The failed message is sent again on request, with its webhook-id.
    await app
      .http()
      .post(`/webhooks/${endpoint.id}/deliveries/${messageId}/redeliver`)
      .set(user.auth)
      .expect(202);
    await until('the redelivery', () => (r.received.length === 5 ? true : undefined));
    expect(r.received[4].headers['webhook-id']).toBe(messageId);
    const [delivery] = await until('the log', async () => {
      const items = await deliveries(endpoint.id);
      return items[0]?.status === 'succeeded' ? items : undefined;
    });
    expect(delivery.attempts.map((a) => a.status_code)).toEqual([503, 503, 503, 503, 200]);
  });

  it('signs with the old and the new secret after a rotation', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url);
    const rotated = await app
      .http()
      .post(`/webhooks/${endpoint.id}/rotate-secret`)
      .set(user.auth)
      .expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(Date.parse(rotated.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(86_000_000);
    await sendTest(endpoint.id);
    const got = await until('the message', () => r.received[0]);
    expect(got.headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => verify(endpoint.secret, got)).not.toThrow();
    expect(() => verify(rotated.body.secret as string, got)).not.toThrow();
    expect(() => verify(`whsec_${randomBytes(32).toString('base64')}`, got)).toThrow();
  });

  it('pages the delivery log with a cursor', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(r.url);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await sendTest(endpoint.id));
    const first = await app
      .http()
      .get(`/webhooks/${endpoint.id}/deliveries?limit=2`)
      .set(user.auth)
      .expect(200);
    expect(first.body.items.map((d: Delivery) => d.message_id)).toEqual([ids[2], ids[1]]);
    const second = await app
      .http()
      .get(`/webhooks/${endpoint.id}/deliveries?limit=2&cursor=${first.body.next_cursor}`)
      .set(user.auth)
      .expect(200);
    expect(second.body).toMatchObject({
      items: [expect.objectContaining({ message_id: ids[0] })],
      next_cursor: null,
    });
  });
});

describe('Webhooks without WEBHOOK_ALLOW_PRIVATE_URLS', () => {
  let app: TestApp;
  let user: User;
  let r: WebhookReceiver;

  beforeAll(async () => {
    app = await startTestApp({ WEBHOOK_POLL_INTERVAL_MS: '50', WEBHOOK_RETRY_SCHEDULE: '50ms' });
    user = await signUp(app);
    r = await startWebhookReceiver();
  });

  afterAll(async () => {
    await r?.close();
    await app?.close();
  });

  it.each([
    'http://127.0.0.1:8080/hook',
    'http://localhost/hook',
    'http://[::1]/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.5/hook',
    'http://192.168.1.10/hook',
  ])('refuses %s at creation', async (url) => {
    const res = await app.http().post('/webhooks').set(user.auth).send({ url }).expect(400);
    expect(res.body.message).toMatch(/^url host .* resolves to .*loopback, private, link-local or reserved/);
  });

  it('checks the address again at send time and sends nothing to a private one', async () => {
    // As if DNS had changed since creation (rebinding): the row points at loopback.
    const [row] = await app.dataSource.query<{ id: string }[]>(
      `INSERT INTO webhook_endpoints (user_id, url, secret) VALUES ($1, $2, 'whsec_AAAA') RETURNING id`,
      [user.id, r.url],
    );
    await app.http().post(`/webhooks/${row.id}/test`).set(user.auth).expect(202);
    const items = await waitFor(
      async () => {
        const res = await app.http().get(`/webhooks/${row.id}/deliveries`).set(user.auth).expect(200);
        return res.body.items[0]?.status === 'failed' ? (res.body.items as Delivery[]) : undefined;
      },
      10_000,
      'the failed attempts',
    );
    expect(items[0].attempts[0].error).toMatch(/resolves to 127\.0\.0\.1/);
    expect(r.received).toHaveLength(0);
  });
});

describe('Webhook retention (WEBHOOK_RETENTION_DAYS)', () => {
  it('deletes at start the messages that finished more than that many days ago, with their attempts, and keeps pending and younger ones', async () => {
    const database = await createTestDatabase();
    let app: TestApp | undefined;
    try {
      // Written with the retention off, read back by a process started with 30 days.
      app = await startTestApp({ WEBHOOK_RETENTION_DAYS: '0', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }, database);
      const user = await signUp(app);
      const endpoint = (
        await app.http().post('/webhooks').set(user.auth).send({ url: 'http://127.0.0.1:9/hook' }).expect(201)
      ).body.id as string;
      // The process running at the time (the helper outlives the first one).
      const db = () => app!.dataSource;
      /** A message last changed `daysAgo` days ago, created `createdDaysAgo` days ago. */
      const message = async (
        status: string,
        daysAgo: number,
        attempts = 1,
        createdDaysAgo = daysAgo + 1,
      ): Promise<string> => {
        const [row] = await db().query<{ seq: string }[]>(
          `INSERT INTO webhook_messages (endpoint_id, event_type, body, status, created_at, updated_at)
           VALUES ($1, 'webhook_test', '{}', $2, now() - make_interval(days => $4), now() - make_interval(days => $3))
           RETURNING seq::text AS seq`,
          [endpoint, status, daysAgo, createdDaysAgo],
        );
        for (let i = 0; i < attempts; i++)
          await db().query(
            `INSERT INTO webhook_attempts (message_seq, attempted_at, status_code, latency_ms)
             VALUES ($1, now() - make_interval(days => $2), 500, 10)`,
            [row.seq, daysAgo],
          );
        // A pending message keeps its place in the queue (not due during the test).
        if (status === 'pending')
          await db().query(
            `INSERT INTO webhook_queue (message_seq, endpoint_id, next_attempt_at) VALUES ($1, $2, now() + interval '1 day')`,
            [row.seq, endpoint],
          );
        return row.seq;
      };
      const oldSucceeded = await message('succeeded', 40, 2);
      const oldFailed = await message('failed', 31);
      const young = await message('succeeded', 29);
      const oldPending = await message('pending', 90, 3);
      // Created long ago, finished again recently (a redelivery): its age counts from then.
      const redelivered = await message('succeeded', 5, 0, 90);
      // More than one batch (1,000) of old finished messages: the job goes on until none is left.
      await db().query(
        `INSERT INTO webhook_messages (endpoint_id, event_type, body, status, created_at, updated_at)
         SELECT $1, 'webhook_test', '{}', 'failed', now() - interval '35 days', now() - interval '34 days'
           FROM generate_series(1, 1500)`,
        [endpoint],
      );
      await app.close();
      app = undefined;

      app = await startTestApp(
        { WEBHOOK_RETENTION_DAYS: '30', WEBHOOK_ALLOW_PRIVATE_URLS: 'true' },
        database,
      );
      const remaining = async () =>
        (
          await app!.dataSource.query<{ seq: string; attempts: number }[]>(
            `SELECT m.seq::text AS seq, (SELECT count(*) FROM webhook_attempts a WHERE a.message_seq = m.seq)::int AS attempts
               FROM webhook_messages m ORDER BY m.seq`,
          )
        ).map((r) => [r.seq, r.attempts]);
      await waitFor(
        async () => ((await remaining()).length === 3 ? true : undefined),
        10_000,
        'the retention',
      );
      expect(await remaining()).toEqual([
        [young, 1],
        [oldPending, 3],
        [redelivered, 0],
      ]);
      const [orphans] = await app.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_attempts WHERE message_seq = ANY($1::bigint[])`,
        [[oldSucceeded, oldFailed]],
      );
      expect(orphans.n).toBe(0);

      // In batches: each call deletes at most its limit, oldest first.
      const more = [await message('failed', 60), await message('succeeded', 50), await message('failed', 45)];
      const repository = app.app.get(WebhooksRepository);
      expect(await repository.deleteFinished(30, 2)).toBe(2);
      expect((await remaining()).map(([seq]) => seq)).toEqual([young, oldPending, redelivered, more[2]]);
      expect(await repository.deleteFinished(30, 2)).toBe(1);
      expect(await repository.deleteFinished(30, 2)).toBe(0);
    } finally {
      await app?.close();
      await database.drop();
    }
  });
});
