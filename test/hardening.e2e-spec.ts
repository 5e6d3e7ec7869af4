import { randomUUID } from 'node:crypto';

import { signUp, startTestApp, type TestApp } from './helpers/app.js';
import { BinanceStreamServer } from './helpers/binance-stream-server.js';

type Account = Awaited<ReturnType<typeof signUp>>;

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`;

/** `{"a":{"a":…}}` nested `depth` times, as text (JSON.stringify would recurse as deep). */
const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('hardening (abuse found by fuzzing and attack)', () => {
  let exchange: BinanceStreamServer;
  let app: TestApp;
  let alice: Account;
  let walletId: string;

  beforeAll(async () => {
    exchange = await BinanceStreamServer.start();
    app = await startTestApp({
      ALERTS_ENABLED: 'true',
      BINANCE_WS_URL: exchange.url,
      ALERT_SYMBOLS: 'BTCUSDT',
      MAX_WALLETS_PER_USER: '3',
      MAX_ALERTS_PER_USER: '2',
    });
    alice = await signUp(app);
    walletId = (
      await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .send({ address: address(1) })
        .expect(201)
    ).body.id as string;
  });

  afterAll(async () => {
    await app?.close();
    await exchange?.close();
  });

  describe('inputs that answered 500', () => {
    it.each([
      ['POST', '/users', false],
      ['POST', '/auth/login', false],
      ['POST', '/wallets', true],
      ['POST', '/alerts', true],
      ['PATCH', `/alerts/${randomUUID()}`, true],
    ])('answers 400 to deeply nested JSON on %s %s', async (method, path, authed) => {
      const req = method === 'POST' ? app.http().post(path) : app.http().patch(path);
      const res = await (authed ? req.set(alice.auth) : req)
        .set('content-type', 'application/json')
        .send(nested(10_000));
      expect(res.status).toBe(400);
      expect(res.body.message).toEqual(['body is nested too deeply (at most 32 levels)']);
    });

    it('answers 400 naming email for a lone UTF-16 surrogate in it', async () => {
      for (const path of ['/users', '/auth/login']) {
        const res = await app
          .http()
          .post(path)
          .set('content-type', 'application/json')
          .send('{"email":"a\\ud800@example.com","password":"correct horse battery"}');
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body.message)).toMatch(/email/);
      }
    });

    it('answers 400 naming label for a NUL byte in a wallet label', async () => {
      const res = await app
        .http()
        .post('/wallets')
        .set(alice.auth)
        .send({ address: address(2), label: 'hot\u0000wallet' });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(/label/);
    });

    it.each([
      '1.------------------------------------',
      `99999999999999999999.${randomUUID()}`,
      `1.${'-'.repeat(36)}`,
      `1.${'f'.repeat(36)}`,
    ])('answers 400 naming cursor for the deposit cursor %s', async (cursor) => {
      const res = await app.http().get(`/deposits/wallet/${walletId}`).query({ cursor }).set(alice.auth);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.message)).toMatch(/cursor/);
    });

    it('answers 400 naming the field for null alert fields', async () => {
      const created = await app
        .http()
        .post('/alerts')
        .set(alice.auth)
        .send({
          symbol: 'BTCUSDT',
          condition: 'pct_change',
          threshold: '5',
          window_seconds: null,
          channels: ['socket'],
        });
      expect(created.status).toBe(400);
      expect(JSON.stringify(created.body.message)).toMatch(/window_seconds/);

      const alert = await app
        .http()
        .post('/alerts')
        .set(alice.auth)
        .send({ symbol: 'BTCUSDT', condition: 'above', threshold: '5', channels: ['socket'] })
        .expect(201);
      for (const field of ['threshold', 'active', 'cooldown_seconds']) {
        const res = await app
          .http()
          .patch(`/alerts/${alert.body.id}`)
          .set(alice.auth)
          .send({ [field]: null });
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body.message)).toMatch(new RegExp(field));
      }
      await app.http().delete(`/alerts/${alert.body.id}`).set(alice.auth).expect(204);
    });
  });

  describe('password policy', () => {
    it.each(['password1', 'Iloveyou', '12345678', '          '])(
      'refuses %j at sign-up, naming password',
      async (password) => {
        const res = await app
          .http()
          .post('/users')
          .send({ email: `${randomUUID()}@example.com`, password });
        expect(res.status).toBe(400);
        expect(res.body.message).toEqual([
          expect.stringMatching(/^password (is one of the most common|must not be only whitespace)/),
        ]);
      },
    );
  });

  describe('per-user limits', () => {
    it('refuses a wallet past MAX_WALLETS_PER_USER with 409 and a message, also in parallel', async () => {
      const bob = await signUp(app);
      const results = await Promise.all(
        [10, 11, 12, 13, 14, 15].map((n) =>
          app
            .http()
            .post('/wallets')
            .set(bob.auth)
            .send({ address: address(n) }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
      const refused = results.find((r) => r.status === 409)!;
      expect(refused.body.message).toMatch(/3 wallets, the most allowed \(MAX_WALLETS_PER_USER\)/);
      const [first] = results.filter((r) => r.status === 201);
      await app.http().delete(`/wallets/${first.body.id}`).set(bob.auth).expect(204);
      await app
        .http()
        .post('/wallets')
        .set(bob.auth)
        .send({ address: address(20) })
        .expect(201);
    });

    it('refuses an alert past MAX_ALERTS_PER_USER with 409 and a message', async () => {
      const carol = await signUp(app);
      const body = { symbol: 'BTCUSDT', condition: 'above', threshold: '5', channels: ['socket'] };
      const results = await Promise.all(
        [1, 2, 3, 4].map(() => app.http().post('/alerts').set(carol.auth).send(body)),
      );
      expect(results.map((r) => r.status).sort()).toEqual([201, 201, 409, 409]);
      expect(results.find((r) => r.status === 409)!.body.message).toMatch(
        /2 alerts, the most allowed \(MAX_ALERTS_PER_USER\)/,
      );
    });
  });

  describe('security headers', () => {
    it('sends a CSP the web app and Swagger UI work under, nosniff and no framing; no HSTS over http', async () => {
      for (const path of ['/health', '/docs/', '/networks']) {
        const res = await app.http().get(path);
        const csp = res.headers['content-security-policy'] as string;
        expect(csp).toContain("default-src 'self'");
        expect(csp).toContain("script-src 'self'");
        expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
        expect(csp).toContain("style-src 'self' 'unsafe-inline'");
        expect(csp).toContain("connect-src 'self'");
        expect(csp).toContain("frame-ancestors 'none'");
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.headers['strict-transport-security']).toBeUndefined();
      }
    });

    it('serves Swagger UI with no inline script, only same-origin ones', async () => {
      const html = (await app.http().get('/docs/').expect(200)).text;
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attributes, body] of scripts) {
        expect(attributes).toMatch(/src="\.?\/?[\w./-]+"/);
        expect(body.trim()).toBe('');
      }
      await app.http().get('/docs/swagger-ui-init.js').expect(200);
    });
  });
});
