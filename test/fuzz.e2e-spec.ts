import fc from 'fast-check';

import { signUp, startTestApp, type TestApp } from './helpers/app.js';
import { BinanceStreamServer } from './helpers/binance-stream-server.js';

interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete' | 'put';
  path: string;
  pathParams: string[];
  queryParams: string[];
  bodyFields: string[];
}

interface OpenApi {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

/** Every operation of the service's own OpenAPI document, so a new route is fuzzed without editing this. */
function operationsOf(doc: OpenApi): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const ref = JSON.stringify(op.requestBody ?? {}).match(/#\/components\/schemas\/(\w+)/)?.[1];
      operations.push({
        method: method as Operation['method'],
        path,
        pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: ref ? Object.keys(doc.components.schemas[ref].properties ?? {}) : [],
      });
    }
  }
  return operations;
}

/** Percent-encodes UTF-16 code units one by one, so lone surrogates and NULs reach the server as bytes. */
const encode = (value: string): string => {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...value]
      .map((c) => (/[\w.-]/.test(c) ? c : `%${(c.codePointAt(0)! & 0xff).toString(16)}`))
      .join('');
  }
};

describe('fuzzing every route (fast-check, real app, real PostgreSQL)', () => {
  let exchange: BinanceStreamServer;
  let app: TestApp;
  let operations: Operation[];
  const known: { uuids: string[]; token: string; email: string } = { uuids: [], token: '', email: '' };

  beforeAll(async () => {
    exchange = await BinanceStreamServer.start();
    app = await startTestApp({
      ALERTS_ENABLED: 'true',
      BINANCE_WS_URL: exchange.url,
      ALERT_SYMBOLS: 'BTCUSDT',
    });
    const user = await signUp(app);
    known.token = user.token;
    known.email = user.email;
    const wallet = await app
      .http()
      .post('/wallets')
      .set(user.auth)
      .send({ address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' })
      .expect(201);
    const alert = await app
      .http()
      .post('/alerts')
      .set(user.auth)
      .send({ symbol: 'BTCUSDT', condition: 'above', threshold: '5', channels: ['socket'] })
      .expect(201);
    known.uuids.push(user.id, wallet.body.id as string, alert.body.id as string);
    operations = operationsOf((await app.http().get('/docs-json').expect(200)).body as OpenApi);
  });

  afterAll(async () => {
    await app?.close();
    await exchange?.close();
  });

  it('covers the routes of the API document', () => {
    const routes = operations.map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'POST /users',
        'POST /auth/login',
        'POST /wallets',
        'GET /deposits/wallet/{wallet_id}',
        'POST /alerts',
        'PATCH /alerts/{id}',
      ]),
    );
  });

  it('answers no input with a 5xx', async () => {
    const special = fc.constantFrom(
      '',
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udc00@example.com',
      '1.------------------------------------',
      `99999999999999999999.${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`,
      '-1',
      '1e309',
      '0x',
      '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      '0x' + 'ab'.repeat(32),
      'BTCUSDT',
      'pct_change',
      'devnet',
      'fuzz@example.com',
      'correct horse battery',
      '9'.repeat(80),
      'é'.repeat(300),
    );
    const text = fc.oneof(
      special,
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.constantFrom(...known.uuids),
      fc.constantFrom(known.email),
    );
    const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        text,
        fc.integer(),
        fc.double(),
        fc.bigInt().map(String),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 4 }),
      ),
    })).v;

    const request = fc.record({
      operation: fc.constantFrom(...operations),
      params: fc.array(fc.oneof(text.map(encode), fc.constantFrom('%', '%zz', '%ED%A0%80', '%00', '..')), {
        minLength: 3,
        maxLength: 3,
      }),
      query: fc.array(fc.tuple(fc.nat(4), text), { maxLength: 4 }),
      body: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 16 }), value, { maxKeys: 6 }),
        value,
        fc.constantFrom('{"a":'.repeat(5000) + '1' + '}'.repeat(5000), '{', '[]', '"x"', 'null'),
      ),
      fields: fc.array(fc.tuple(fc.nat(10), value), { maxLength: 6 }),
      auth: fc.constantFrom('none', 'valid', 'garbage'),
    });

    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ operation, params, query, body, fields, auth }) => {
        let path = operation.path;
        operation.pathParams.forEach((name, i) => (path = path.replace(`{${name}}`, params[i])));
        const search = query
          .filter(() => operation.queryParams.length > 0)
          .map(([i, v]) => `${operation.queryParams[i % operation.queryParams.length]}=${encode(v)}`)
          .join('&');
        let payload: unknown = body;
        if (operation.bodyFields.length > 0 && fields.length > 0) {
          payload = Object.fromEntries(
            fields.map(([i, v]) => [operation.bodyFields[i % operation.bodyFields.length], v]),
          );
        }
        let req = app.http()[operation.method](search ? `${path}?${search}` : path);
        if (auth === 'valid') req = req.set('Authorization', `Bearer ${known.token}`);
        if (auth === 'garbage') req = req.set('Authorization', 'Bearer x.y.z');
        if (operation.method !== 'get' && operation.method !== 'delete') {
          req = req
            .set('content-type', 'application/json')
            .send(typeof payload === 'string' && payload.startsWith('{') ? payload : JSON.stringify(payload));
        }
        const res = await req;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status >= 500) {
          throw new Error(`${operation.method.toUpperCase()} ${path}?${search} → ${res.status} ${res.text}`);
        }
      }),
      { numRuns: 1500, interruptAfterTimeLimit: 50_000 },
    );
    // The run reached the handlers, not only the validation: some requests succeeded.
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect([...statuses.keys()].some((s) => s === 400)).toBe(true);
  }, 90_000);
});
