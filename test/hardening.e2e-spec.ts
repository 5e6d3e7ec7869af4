import { randomUUID } from 'node:crypto';

import { createClient } from 'redis';

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
        const csp = res.headers['content-security-policy'];
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

describe('login and sign-up rate limits', () => {
  let app: TestApp;
  let dave: Account;
  const PER_IP = 5;
  const PER_ACCOUNT = 3;

  beforeAll(async () => {
    app = await startTestApp({
      TRUST_PROXY: 'true',
      AUTH_RATE_LIMIT_PER_IP: String(PER_IP),
      AUTH_RATE_LIMIT_PER_ACCOUNT: String(PER_ACCOUNT),
      AUTH_RATE_LIMIT_WINDOW_SECONDS: '60',
    });
    dave = await signUp(app);
  });

  afterAll(async () => {
    await app?.close();
  });

  const login = (ip: string, email: string, password = 'wrong password') =>
    app.http().post('/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  it('answers 429 with Retry-After past the per-IP limit, and only for that IP', async () => {
    for (let i = 0; i < PER_IP; i++) {
      expect((await login('203.0.113.1', `nobody${i}@example.com`)).status).toBe(401);
    }
    const limited = await login('203.0.113.1', 'nobody@example.com');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.body.message).toMatch(
      /^too many login or sign-up attempts from this address: retry in \d+ s$/,
    );
    // Sign-up has its own count, limited the same way.
    for (let i = 0; i < PER_IP; i++) {
      await app
        .http()
        .post('/users')
        .set('X-Forwarded-For', '203.0.113.1')
        .send({ email: `new${i}-${randomUUID()}@example.com`, password: 'correct horse battery' })
        .expect(201);
    }
    const signUpLimited = await app
      .http()
      .post('/users')
      .set('X-Forwarded-For', '203.0.113.1')
      .send({ email: `${randomUUID()}@example.com`, password: 'correct horse battery' });
    expect(signUpLimited.status).toBe(429);
    expect(signUpLimited.headers['retry-after']).toBeDefined();
    expect((await login('203.0.113.2', 'nobody@example.com')).status).toBe(401);
  });

  it('answers 429 past the per-account limit of failed attempts, whichever IPs they come from', async () => {
    const email = dave.email.toUpperCase();
    for (let i = 0; i < PER_ACCOUNT; i++) {
      expect((await login(`198.51.100.${i + 1}`, email)).status).toBe(401);
    }
    const limited = await login('198.51.100.99', dave.email, 'correct horse battery');
    expect(limited.status).toBe(429);
    expect(limited.body.message).toMatch(/for this account/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another account is not affected.
    expect((await login('198.51.100.99', 'someone.else@example.com')).status).toBe(401);
  });

  it('keeps a real login fast while 96 parallel bogus logins flood in', async () => {
    const carol = await signUp(app);
    const timed = async (ip: string) => {
      const started = performance.now();
      const res = await login(ip, carol.email, 'correct horse battery');
      expect(res.status).toBe(200);
      return performance.now() - started;
    };
    const alone = [await timed('192.0.2.1'), await timed('192.0.2.2')].sort((a, b) => a - b)[0];

    const flood = Array.from({ length: 96 }, (_, i) => login('203.0.113.66', `bogus${i}@example.com`));
    const during = await timed('192.0.2.3');
    const statuses = (await Promise.all(flood)).map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(PER_IP);
    expect(statuses.filter((s) => s === 429)).toHaveLength(96 - PER_IP);
    // Without limits, the real login waited behind 96 scrypt hashes (~24 hash times on 4 threads).
    expect(during).toBeLessThan(Math.max(750, 8 * alone));
  });
});

describe('bounded password hashing', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      TRUST_PROXY: 'true',
      PASSWORD_HASH_CONCURRENCY: '1',
      PASSWORD_HASH_QUEUE: '2',
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('runs at most PASSWORD_HASH_CONCURRENCY hashes, queues PASSWORD_HASH_QUEUE, answers 429 past that', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        app
          .http()
          .post('/auth/login')
          .set('X-Forwarded-For', `10.0.0.${i + 1}`)
          .send({ email: `x${i}@example.com`, password: 'whatever' }),
      ),
    );
    const refused = results.filter((r) => r.status === 429);
    expect(results.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length + results.filter((r) => r.status === 401).length).toBe(12);
    expect(refused[0].headers['retry-after']).toBe('1');
    expect(refused[0].body.message).toBe('too many logins and sign-ups in progress: retry in a second');
  });
});

describe('behind a trusted proxy', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ TRUST_PROXY: 'loopback', HSTS_MAX_AGE_SECONDS: '31536000' });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('sends HSTS only on requests that came in over https', async () => {
    const https = await app.http().get('/health').set('X-Forwarded-Proto', 'https');
    expect(https.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const http = await app.http().get('/health').set('X-Forwarded-Proto', 'http');
    expect(http.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('rate limits shared through Redis (REDIS_URL)', () => {
  const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const apps: TestApp[] = [];

  afterAll(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
  });

  it('counts attempts from one IP across two API processes', async () => {
    // Each run's IP is its own, so counts left in Redis by an earlier run do not matter.
    const ip = `198.18.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const env = { REDIS_URL, TRUST_PROXY: 'true', AUTH_RATE_LIMIT_PER_IP: '4' };
    apps.push(await startTestApp(env));
    apps.push(await startTestApp(env, apps[0].database));
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await apps[i % 2]
        .http()
        .post('/auth/login')
        .set('X-Forwarded-For', ip)
        .send({ email: `${randomUUID()}@example.com`, password: 'wrong password' });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      expect((await redis.keys('auth-ip:*')).length).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  });
});
