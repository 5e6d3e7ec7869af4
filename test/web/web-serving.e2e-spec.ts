import { existsSync, readdirSync } from 'node:fs';

import { io } from 'socket.io-client';

import type { PricePoint } from '../../src/alerts/price-stream.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { BinanceStreamServer, waitFor } from '../helpers/binance-stream-server.js';
import { refusal } from '../realtime/realtime-client.js';

const INTERVAL_MS = 400;

/** The web app served by the API process, and the public price endpoints it uses. */
describe('Web app serving and the public price stream', () => {
  let exchange: BinanceStreamServer;
  let app: TestApp;

  beforeAll(async () => {
    if (!existsSync('web/dist/index.html')) {
      throw new Error('web/dist is missing: run `npm run build` (npm test does it first)');
    }
    exchange = await BinanceStreamServer.start();
    app = await startTestApp({
      ALERTS_ENABLED: 'true',
      BINANCE_WS_URL: exchange.url,
      ALERT_SYMBOLS: 'BTCUSDT,ETHUSDT',
      PRICE_STREAM_INTERVAL_MS: String(INTERVAL_MS),
    });
    await exchange.waitForConnections(1);
  });

  afterAll(async () => {
    await app?.close();
    await exchange?.close();
  });

  describe('routes', () => {
    it('answers / and any deep link under /app/ with the app shell', async () => {
      for (const path of [
        '/',
        '/app',
        '/app/deposits',
        '/app/wallets/9b2f3c1e-7d4a-4e0b-8f55-1a2b3c4d5e6f/deposits',
      ]) {
        const response = await app.http().get(path).expect(200);
        expect(response.headers['content-type']).toMatch(/^text\/html/);
        expect(response.text).toContain('<div id="root"></div>');
      }
    });

    it('serves the built assets', async () => {
      const [script] = readdirSync('web/dist/assets').filter((f) => f.endsWith('.js'));
      const response = await app.http().get(`/assets/${script}`).expect(200);
      expect(response.headers['content-type']).toMatch(/javascript/);
      expect(response.headers['cache-control']).toContain('immutable');
    });

    it('shadows no API path: /docs, /docs-json, /health, 401s and JSON 404s are the API’s', async () => {
      expect((await app.http().get('/docs/').expect(200)).text).toContain('swagger');
      const spec = await app.http().get('/docs-json').expect(200);
      expect(Object.keys(spec.body.paths)).toEqual(
        expect.arrayContaining(['/prices/{symbol}/recent', '/deposits', '/wallets']),
      );
      expect((await app.http().get('/health').expect(200)).body).toHaveProperty('status');
      expect((await app.http().get('/wallets/user/x').expect(401)).body).toHaveProperty('statusCode', 401);
      const missing = await app.http().get('/no-such-path').expect(404);
      expect(missing.headers['content-type']).toMatch(/json/);
      await app.http().post('/').send({}).expect(404);
      await app.http().get('/application').expect(404);
    });
  });

  describe('GET /prices/{symbol}/recent', () => {
    it('returns what the stream sent, oldest first, for any case of a feed symbol', async () => {
      exchange.sendPrice('ETHUSDT', '3000.50000000');
      await waitFor(
        async () => (await app.http().get('/prices/ethusdt/recent')).body.points?.length > 0,
        10_000,
        'a recent ETHUSDT price',
      );
      const { body } = await app.http().get('/prices/ethusdt/recent').expect(200);
      expect(body).toEqual({
        symbol: 'ETHUSDT',
        interval_ms: INTERVAL_MS,
        points: [
          {
            symbol: 'ETHUSDT',
            price: '3000.50000000',
            exchange_time: expect.any(String),
            change_24h_percent: '0',
          },
        ],
      });
    });

    it('is 404 for a symbol the feed does not carry and 400 for a malformed one, naming it', async () => {
      const unknown = await app.http().get('/prices/DOGEUSDT/recent').expect(404);
      expect(unknown.body.message).toContain('DOGEUSDT');
      const bad = await app.http().get('/prices/not-a-symbol!/recent').expect(400);
      expect(JSON.stringify(bad.body.message)).toContain('symbol');
    });
  });

  describe('Socket.IO namespace /prices', () => {
    it('is open without a token, starts with the latest prices, and throttles per symbol', async () => {
      const received: PricePoint[] = [];
      const socket = io(`${app.baseUrl}/prices`, { path: '/ws', transports: ['websocket'], forceNew: true });
      socket.on('price', (point: PricePoint) => received.push(point));
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', resolve);
          socket.once('connect_error', reject);
        });
        await waitFor(() => received.some((p) => p.symbol === 'ETHUSDT'), 5_000, 'the snapshot');
        await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
        const before = received.length;
        const t0 = Date.now();
        for (const price of ['50000.1', '50000.2', '50000.3', '50000.4', '50000.5']) {
          exchange.sendPrice('BTCUSDT', price, t0);
        }
        await waitFor(() => received.at(-1)?.price === '50000.5', 5_000, 'the newest BTCUSDT price');
        await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 2));
        const btc = received.slice(before).map((p) => p.price);
        // The first at once, then only the newest of the rest when the interval ended.
        expect(btc).toEqual(['50000.1', '50000.5']);
      } finally {
        socket.close();
      }
    });

    it('leaves the wallet namespace as strict as before: no token, no connection', async () => {
      expect(await refusal(app.baseUrl, {})).toMatch(/^unauthorized: missing token/);
    });
  });

  describe('GET /deposits', () => {
    it('pages the caller’s deposits across wallets and names a bad parameter', async () => {
      const user = await signUp(app);
      const { body } = await app.http().get('/deposits').set(user.auth).expect(200);
      expect(body).toEqual({ items: [], next_cursor: null });
      await app.http().get('/deposits').expect(401);
      const bad = await app.http().get('/deposits?limit=0').set(user.auth).expect(400);
      expect(JSON.stringify(bad.body.message)).toContain('limit');
    });
  });
});
