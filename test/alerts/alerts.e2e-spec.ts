import type { LoggedEvent } from '../../src/events/domain-events.js';
import { EventBus } from '../../src/events/event-bus.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { BinanceStreamServer, waitFor } from '../helpers/binance-stream-server.js';
import { TestSmtpServer } from '../helpers/smtp.js';

type User = Awaited<ReturnType<typeof signUp>>;
interface Delivery {
  id: string;
  channel: 'email' | 'socket';
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  sent_at: string | null;
  firings_in_message: number;
}
interface Firing {
  id: string;
  alert_id: string | null;
  price: string;
  condition: string;
  deliveries: Delivery[];
}

const SYMBOLS = [
  'BTCUSDT',
  'ETHUSDT',
  'S1USDT',
  'S2USDT',
  'S3USDT',
  'S4USDT',
  'S5USDT',
  'S6USDT',
  'S7USDT',
  'S8USDT',
  'S9USDT',
];
const COALESCE_MS = 300;
const STALE_SECONDS = 30;

describe('price alerts (e2e: local exchange stream, real SMTP, real database)', () => {
  let exchange: BinanceStreamServer;
  let smtp: TestSmtpServer;
  let app: TestApp;
  const events: LoggedEvent[] = [];

  beforeAll(async () => {
    exchange = await BinanceStreamServer.start();
    smtp = await TestSmtpServer.start();
    app = await startTestApp({
      ALERTS_ENABLED: 'true',
      BINANCE_WS_URL: exchange.url,
      ALERT_SYMBOLS: SYMBOLS.join(','),
      PRICE_STALE_SECONDS: String(STALE_SECONDS),
      ALERT_COALESCE_MS: String(COALESCE_MS),
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      SMTP_FROM: 'Alerts <alerts@example.test>',
      SMTP_RETRY_BASE_MS: '200',
      SMTP_MAX_ATTEMPTS: '20',
    });
    app.app.get(EventBus).subscribe((batch) => events.push(...batch));
    await exchange.waitForConnections(1);
  });

  afterAll(async () => {
    await app?.close();
    await exchange?.close();
    await smtp?.stop();
  });

  const price = (symbol: string, value: string, ageMs = 0) => {
    expect(exchange.sendPrice(symbol, value, Date.now() - ageMs)).toBe(1);
  };
  const createAlert = async (user: User, body: object) =>
    (await app.http().post('/alerts').set(user.auth).send(body).expect(201)).body as { id: string };
  const history = async (user: User, alertId?: string, query = '') =>
    (
      await app
        .http()
        .get(alertId ? `/alerts/${alertId}/history${query}` : `/alerts/history${query}`)
        .set(user.auth)
        .expect(200)
    ).body as { items: Firing[]; next_cursor: string | null };
  const waitForHistory = async (user: User, count: number, alertId?: string) => {
    await waitFor(
      async () => (await history(user, alertId)).items.length >= count,
      10_000,
      `${count} firings`,
    );
    return history(user, alertId);
  };
  /** Waits until every email delivery of the user is settled (sent or given up). */
  const waitForEmailsSettled = async (user: User) =>
    waitFor(
      async () =>
        (await history(user)).items.every((f) =>
          f.deliveries.every((d) => d.channel !== 'email' || d.status === 'sent'),
        ),
      15_000,
      'emails sent',
    );

  describe('GET /prices', () => {
    it('lists every feed symbol with its latest exact price, exchange time, 24 h change and staleness, without a token', async () => {
      const time = Date.now() - 1000;
      exchange.sendPrice('BTCUSDT', '43210.12000000', time, '40000.00000000');
      exchange.sendPrice('ETHUSDT', '2500.5', Date.now() - (STALE_SECONDS + 5) * 1000);
      await waitFor(
        async () => {
          const body = (await app.http().get('/prices').expect(200)).body as Array<{
            symbol: string;
            price: string | null;
          }>;
          return body.find((p) => p.symbol === 'ETHUSDT')?.price === '2500.5';
        },
        5000,
        'prices',
      );
      const body = (await app.http().get('/prices').expect(200)).body as Array<Record<string, unknown>>;
      expect(body.map((p) => p.symbol)).toEqual(SYMBOLS);
      expect(body[0]).toMatchObject({
        symbol: 'BTCUSDT',
        price: '43210.12000000',
        exchange_time: new Date(time).toISOString(),
        stale: false,
        // 43210.12 / 40000 = 1.080253: +8.02 % (truncated), as the price stream sends it.
        change_24h_percent: '8.02',
      });
      expect(body[1]).toMatchObject({ symbol: 'ETHUSDT', stale: true, change_24h_percent: '0' });
      expect(body.find((p) => p.symbol === 'S9USDT')).toMatchObject({
        price: null,
        exchange_time: null,
        stale: true,
        change_24h_percent: null,
      });
    });
  });

  describe('rules', () => {
    it('documents every route and its examples in Swagger', async () => {
      const doc = (await app.http().get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, unknown>>;
        components: { schemas: Record<string, { properties: Record<string, { example?: unknown }> }> };
      };
      expect(Object.keys(doc.paths['/alerts']).sort()).toEqual(['get', 'post']);
      expect(Object.keys(doc.paths['/alerts/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
      expect(doc.paths['/alerts/history']).toHaveProperty('get');
      expect(doc.paths['/alerts/{id}/history']).toHaveProperty('get');
      expect(doc.paths['/prices']).toHaveProperty('get');
      expect(doc.components.schemas.CreateAlertDto.properties.threshold.example).toBe('50000.50');
      expect(doc.components.schemas.CreateAlertDto.properties.channels.example).toEqual(['email', 'socket']);
    });

    it('creates, lists, reads, edits and deletes an alert, exact thresholds as strings', async () => {
      const user = await signUp(app);
      const created = (
        await app
          .http()
          .post('/alerts')
          .set(user.auth)
          .send({
            symbol: 'btcusdt',
            condition: 'above',
            threshold: '50000.50',
            cooldown_seconds: 60,
            channels: ['email', 'socket'],
          })
          .expect(201)
      ).body;
      expect(created).toMatchObject({
        symbol: 'BTCUSDT',
        condition: 'above',
        threshold: '50000.5',
        window_seconds: null,
        cooldown_seconds: 60,
        channels: ['email', 'socket'],
        active: true,
        armed: true,
        last_triggered_at: null,
      });
      const pct = await createAlert(user, {
        symbol: 'ETHUSDT',
        condition: 'pct_change',
        threshold: '-2.5',
        window_seconds: 300,
        channels: ['socket'],
      });
      const list = (await app.http().get('/alerts').set(user.auth).expect(200)).body as Array<{ id: string }>;
      expect(list.map((a) => a.id)).toEqual([created.id, pct.id]);
      await app
        .http()
        .get(`/alerts/${pct.id}`)
        .set(user.auth)
        .expect(200, (await app.http().get(`/alerts/${pct.id}`).set(user.auth)).body);

      const patched = await app
        .http()
        .patch(`/alerts/${created.id}`)
        .set(user.auth)
        .send({ threshold: '51000', active: false, cooldown_seconds: 0 })
        .expect(200);
      expect(patched.body).toMatchObject({ threshold: '51000', active: false, cooldown_seconds: 0 });
      await app.http().delete(`/alerts/${created.id}`).set(user.auth).expect(204);
      await app.http().get(`/alerts/${created.id}`).set(user.auth).expect(404);
    });

    it('refuses an unknown symbol, naming the field and the feed symbols', async () => {
      const user = await signUp(app);
      const response = await app
        .http()
        .post('/alerts')
        .set(user.auth)
        .send({ symbol: 'NOPEUSDT', condition: 'above', threshold: '1', channels: ['email'] })
        .expect(400);
      expect(JSON.stringify(response.body.message)).toMatch(
        /symbol must be one of the feed's symbols: BTCUSDT/,
      );
    });

    it.each([
      ['a number (never a float)', 50000.5],
      ['text', 'fifty'],
      ['an exponent', '5e4'],
      ['a comma', '50,000'],
      ['too many decimals', '1.0000000000000000001'],
      ['zero for a price', '0'],
      ['a negative price', '-5'],
    ])('refuses a malformed threshold: %s', async (_, threshold) => {
      const user = await signUp(app);
      const response = await app
        .http()
        .post('/alerts')
        .set(user.auth)
        .send({ symbol: 'BTCUSDT', condition: 'above', threshold, channels: ['email'] })
        .expect(400);
      expect(JSON.stringify(response.body.message)).toMatch(/threshold must be/);
    });

    it('requires window_seconds for pct_change only, and valid channels', async () => {
      const user = await signUp(app);
      const post = (body: object) => app.http().post('/alerts').set(user.auth).send(body).expect(400);
      const base = { symbol: 'BTCUSDT', threshold: '5', channels: ['email'] };
      expect(JSON.stringify((await post({ ...base, condition: 'pct_change' })).body.message)).toMatch(
        /window_seconds is required/,
      );
      expect(
        JSON.stringify((await post({ ...base, condition: 'above', window_seconds: 60 })).body.message),
      ).toMatch(/window_seconds is only for pct_change/);
      expect(JSON.stringify((await post({ ...base, condition: 'sideways' })).body.message)).toMatch(
        /condition must be one of/,
      );
      expect(
        JSON.stringify((await post({ ...base, condition: 'above', channels: ['sms'] })).body.message),
      ).toMatch(/channels/);
      expect(
        JSON.stringify((await post({ ...base, condition: 'above', channels: [] })).body.message),
      ).toMatch(/channels/);
      expect(
        JSON.stringify(
          (await post({ ...base, condition: 'pct_change', threshold: '-100', window_seconds: 60 })).body
            .message,
        ),
      ).toMatch(/threshold must be a percent/);
      await app.http().patch('/alerts/not-a-uuid').set(user.auth).send({}).expect(400);
      await app
        .http()
        .post('/alerts')
        .send({ ...base, condition: 'above' })
        .expect(401);
    });

    it('hides other users’ alerts and their history (404)', async () => {
      const owner = await signUp(app);
      const other = await signUp(app);
      const alert = await createAlert(owner, {
        symbol: 'BTCUSDT',
        condition: 'below',
        threshold: '1',
        channels: ['socket'],
      });
      await app.http().get(`/alerts/${alert.id}`).set(other.auth).expect(404);
      await app.http().patch(`/alerts/${alert.id}`).set(other.auth).send({ active: false }).expect(404);
      await app.http().delete(`/alerts/${alert.id}`).set(other.auth).expect(404);
      await app.http().get(`/alerts/${alert.id}/history`).set(other.auth).expect(404);
      expect((await app.http().get('/alerts').set(other.auth).expect(200)).body).toEqual([]);
      await app.http().get(`/alerts/${alert.id}`).set(owner.auth).expect(200);
    });
  });

  describe('evaluation and delivery', () => {
    it('fires on the crossing, stays quiet while the condition holds, re-arms after leaving it; email and socket', async () => {
      const user = await signUp(app);
      const alert = await createAlert(user, {
        symbol: 'S1USDT',
        condition: 'crosses_up',
        threshold: '100',
        channels: ['email', 'socket'],
      });
      price('S1USDT', '99.5');
      price('S1USDT', '100.25'); // crossing → fires
      price('S1USDT', '101');
      price('S1USDT', '150'); // still above: nothing
      const first = await waitForHistory(user, 1);
      expect(first.items[0]).toMatchObject({
        alert_id: alert.id,
        symbol: 'S1USDT',
        condition: 'crosses_up',
        threshold: '100',
        price: '100.25',
      });
      await waitForEmailsSettled(user);
      expect(smtp.to(user.email)).toHaveLength(1);
      expect(smtp.to(user.email)[0].subject).toBe('Price alert: S1USDT crossed up through 100');
      expect(smtp.to(user.email)[0].text).toContain('price 100.25');

      price('S1USDT', '99'); // leaves: re-arms
      price('S1USDT', '100'); // crosses again → fires
      await waitForHistory(user, 2);
      await waitForEmailsSettled(user);
      expect(smtp.to(user.email)).toHaveLength(2);
      const items = (await history(user)).items;
      expect(items.map((f) => f.price)).toEqual(['100', '100.25']);
      for (const firing of items) {
        expect(firing.deliveries.map((d) => [d.channel, d.status, d.attempts])).toEqual([
          ['email', 'sent', 1],
          ['socket', 'sent', 1],
        ]);
      }
      // the socket channel: one price_alert.triggered per firing, to the user's room, in the event log
      const mine = events.filter((e) => e.type === 'price_alert.triggered' && e.room === `user:${user.id}`);
      expect(mine).toHaveLength(2);
      expect(mine[0].data).toMatchObject({
        user_id: user.id,
        alerts: [{ alert_id: alert.id, price: '100.25', threshold: '100' }],
      });
      const logged = await app.dataSource.query(
        `SELECT count(*)::int AS n FROM event_log WHERE type = 'price_alert.triggered' AND room = $1`,
        [`user:${user.id}`],
      );
      expect(logged[0].n).toBe(2);
      expect((await app.http().get(`/alerts/${alert.id}`).set(user.auth)).body).toMatchObject({
        armed: false,
      });
    });

    it('oscillation around a threshold: exactly one email per crossing without cooldown, one in all with a cooldown', async () => {
      const user = await signUp(app);
      const eager = await createAlert(user, {
        symbol: 'S2USDT',
        condition: 'above',
        threshold: '10',
        channels: ['email'],
      });
      const calm = await createAlert(user, {
        symbol: 'S2USDT',
        condition: 'below',
        threshold: '9.99',
        cooldown_seconds: 3600,
        channels: ['email'],
      });
      price('S2USDT', '9.5'); // calm fires (below 9.99); eager armed
      await waitForHistory(user, 1);
      for (let i = 0; i < 3; i++) {
        price('S2USDT', '10.01'); // eager fires each time
        await waitForHistory(user, 2 + i, undefined);
        price('S2USDT', '9.98'); // calm re-entered: within its cooldown, consumed
      }
      await waitForEmailsSettled(user);
      expect((await history(user, eager.id)).items).toHaveLength(3);
      expect((await history(user, calm.id)).items).toHaveLength(1);
      const subjects = smtp.to(user.email).map((m) => m.subject);
      expect(subjects.filter((s) => s.includes('at or above 10'))).toHaveLength(3);
      expect(subjects.filter((s) => s.includes('at or below 9.99'))).toHaveLength(1);
      expect(subjects).toHaveLength(4);
    });

    it('fires nothing on a stale price, then fires on the next fresh one', async () => {
      const user = await signUp(app);
      const alert = await createAlert(user, {
        symbol: 'S3USDT',
        condition: 'above',
        threshold: '100',
        channels: ['socket'],
      });
      const sentinel = await createAlert(user, {
        symbol: 'S3USDT',
        condition: 'below',
        threshold: '50',
        channels: ['socket'],
      });
      price('S3USDT', '150', (STALE_SECONDS + 1) * 1000); // in condition, but stale
      price('S3USDT', '40'); // fresh: only the sentinel fires
      await waitForHistory(user, 1);
      expect((await history(user)).items.map((f) => f.alert_id)).toEqual([sentinel.id]);
      price('S3USDT', '150'); // fresh and above: fires
      await waitForHistory(user, 2);
      expect((await history(user, alert.id)).items).toHaveLength(1);
    });

    it('coalesces a burst of one user’s rules into one email and one socket message listing them all', async () => {
      const user = await signUp(app);
      const other = await signUp(app);
      const ids: string[] = [];
      for (const threshold of ['101', '102', '103', '104', '105']) {
        ids.push(
          (
            await createAlert(user, {
              symbol: 'S4USDT',
              condition: 'above',
              threshold,
              channels: ['email', 'socket'],
            })
          ).id,
        );
      }
      await createAlert(other, {
        symbol: 'S4USDT',
        condition: 'above',
        threshold: '100',
        channels: ['email'],
      });
      price('S4USDT', '100');
      price('S4USDT', '110');
      const page = await waitForHistory(user, 5);
      await waitForEmailsSettled(user);
      await waitForEmailsSettled(other);
      expect(page.items.map((f) => f.alert_id).sort()).toEqual([...ids].sort());
      const emails = smtp.to(user.email);
      expect(emails).toHaveLength(1);
      expect(emails[0].subject).toBe('5 price alerts triggered (S4USDT)');
      for (const t of ['101', '102', '103', '104', '105'])
        expect(emails[0].text).toContain(`at or above ${t}`);
      expect(smtp.to(other.email)).toHaveLength(1);
      const socket = events.filter((e) => e.type === 'price_alert.triggered' && e.room === `user:${user.id}`);
      expect(socket).toHaveLength(1);
      expect((socket[0].data as { alerts: unknown[] }).alerts).toHaveLength(5);
      const deliveryIds = new Set(page.items.map((f) => f.deliveries.find((d) => d.channel === 'email')?.id));
      expect(deliveryIds.size).toBe(1);
      expect(page.items[0].deliveries[0]).toMatchObject({ firings_in_message: 5 });
    });

    it('SMTP down then up: recorded failed with the error, retried with backoff, sent once', async () => {
      const user = await signUp(app);
      await smtp.stop();
      try {
        await createAlert(user, {
          symbol: 'S5USDT',
          condition: 'below',
          threshold: '5',
          channels: ['email'],
        });
        price('S5USDT', '4');
        await waitFor(
          async () => {
            const email = (await history(user)).items[0]?.deliveries[0];
            return email?.status === 'failed' && email.attempts >= 2;
          },
          10_000,
          'two failed attempts',
        );
        const failed = (await history(user)).items[0].deliveries[0];
        expect(failed).toMatchObject({ channel: 'email', status: 'failed', sent_at: null });
        expect(failed.last_error).toMatch(/ECONNREFUSED/);
        expect(failed.next_attempt_at).not.toBeNull();
        expect(smtp.to(user.email)).toHaveLength(0);
      } finally {
        await smtp.start();
      }
      await waitForEmailsSettled(user);
      const sent = (await history(user)).items[0].deliveries[0];
      expect(sent).toMatchObject({ status: 'sent', next_attempt_at: null });
      expect(sent.attempts).toBeGreaterThanOrEqual(3);
      expect(sent.sent_at).not.toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 600)); // a few worker rounds: nothing more goes out
      expect(smtp.to(user.email)).toHaveLength(1);
    });

    it('pct_change fires on a move over its window', async () => {
      const user = await signUp(app);
      const alert = await createAlert(user, {
        symbol: 'S6USDT',
        condition: 'pct_change',
        threshold: '10',
        window_seconds: 1,
        channels: ['socket'],
      });
      const start = Date.now();
      exchange.sendPrice('S6USDT', '100', start - 2000);
      exchange.sendPrice('S6USDT', '105', start - 1000);
      exchange.sendPrice('S6USDT', '115', start); // +9.52 % over 1 s: no
      exchange.sendPrice('S6USDT', '127', start + 1000); // +10.43 %: fires
      const page = await waitForHistory(user, 1);
      expect(page.items[0]).toMatchObject({
        alert_id: alert.id,
        price: '127',
        threshold: '10',
        window_seconds: 1,
      });
    });

    it('does not fire a paused rule; a deleted rule keeps its history', async () => {
      const user = await signUp(app);
      const paused = await createAlert(user, {
        symbol: 'S7USDT',
        condition: 'above',
        threshold: '10',
        channels: ['socket'],
      });
      const deleted = await createAlert(user, {
        symbol: 'S7USDT',
        condition: 'below',
        threshold: '5',
        channels: ['socket'],
      });
      await app.http().patch(`/alerts/${paused.id}`).set(user.auth).send({ active: false }).expect(200);
      price('S7USDT', '4');
      await waitForHistory(user, 1);
      await app.http().delete(`/alerts/${deleted.id}`).set(user.auth).expect(204);
      price('S7USDT', '20');
      price('S7USDT', '4');
      const after = await history(user);
      expect(after.items).toHaveLength(1);
      expect(after.items[0]).toMatchObject({ alert_id: null, condition: 'below' });
    });

    it('pages history with a cursor, newest first, limit at most 200', async () => {
      const user = await signUp(app);
      const alert = await createAlert(user, {
        symbol: 'S8USDT',
        condition: 'above',
        threshold: '10',
        channels: ['socket'],
      });
      for (let i = 0; i < 5; i++) {
        price('S8USDT', '9');
        price('S8USDT', `1${i}`);
      }
      await waitForHistory(user, 5);
      const first = await history(user, undefined, '?limit=2');
      expect(first.items).toHaveLength(2);
      const second = await history(user, alert.id, `?limit=2&cursor=${first.next_cursor}`);
      const third = await history(user, alert.id, `?limit=2&cursor=${second.next_cursor}`);
      expect([...first.items, ...second.items, ...third.items].map((f) => f.price)).toEqual([
        '14',
        '13',
        '12',
        '11',
        '10',
      ]);
      expect(third.next_cursor).toBeNull();
      await app.http().get('/alerts/history?limit=500').set(user.auth).expect(400);
      await app.http().get('/alerts/history?cursor=nope').set(user.auth).expect(400);
    });
  });
});
