import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { BinanceStreamServer, waitFor } from '../helpers/binance-stream-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { TestSmtpServer } from '../helpers/smtp.js';
import { connectClient, type TestClient } from '../realtime/realtime-client.js';

type User = Awaited<ReturnType<typeof signUp>>;
interface Delivery {
  channel: 'email' | 'socket';
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
}
interface Firing {
  alert_id: string | null;
  price: string;
  deliveries: Delivery[];
}

describe('price alerts across restarts (e2e)', () => {
  let exchange: BinanceStreamServer;
  let smtp: TestSmtpServer;
  let database: TestDatabase;
  let app: TestApp | undefined;
  let client: TestClient | undefined;

  const env = (extra: Record<string, string> = {}) => ({
    ALERTS_ENABLED: 'true',
    BINANCE_WS_URL: exchange.url,
    ALERT_SYMBOLS: 'R1USDT,R2USDT,R3USDT',
    PRICE_STALE_SECONDS: '30',
    ALERT_COALESCE_MS: '200',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_RETRY_BASE_MS: '200',
    ...extra,
  });
  const start = async (extra: Record<string, string> = {}) => {
    const connections = exchange.connections.length;
    app = await startTestApp(env(extra), database);
    await exchange.waitForConnections(connections + 1);
    return app;
  };
  const stop = async () => {
    client?.close();
    client = undefined;
    await app?.close();
    app = undefined;
  };
  const history = async (user: User, alertId?: string) =>
    (
      await app!
        .http()
        .get(alertId ? `/alerts/${alertId}/history` : '/alerts/history')
        .set(user.auth)
        .expect(200)
    ).body.items as Firing[];
  const waitForHistory = (user: User, count: number) =>
    waitFor(async () => (await history(user)).length >= count, 10_000, `${count} firings`);
  const price = (symbol: string, value: string) =>
    expect(exchange.sendPrice(symbol, value)).toBeGreaterThanOrEqual(1);

  beforeAll(async () => {
    exchange = await BinanceStreamServer.start();
    smtp = await TestSmtpServer.start();
    database = await createTestDatabase();
  });
  afterEach(stop);
  afterAll(async () => {
    await exchange.close();
    await smtp.stop();
    await database.drop();
  });

  it('loads rules at start and does not fire the same episode again after a restart', async () => {
    await start();
    const user = await signUp(app!);
    const alert = (
      await app!
        .http()
        .post('/alerts')
        .set(user.auth)
        .send({ symbol: 'R1USDT', condition: 'above', threshold: '100', channels: ['socket'] })
        .expect(201)
    ).body as { id: string };
    client = await connectClient(app!.baseUrl, { token: user.token });
    price('R1USDT', '150');
    await waitForHistory(user, 1);
    // the realtime gateway delivers it to the user's room, to a real Socket.IO client
    await waitFor(
      () => client!.received.some((r) => r.name === 'price_alert_triggered'),
      10_000,
      'socket event',
    );
    const received = client.received.find((r) => r.name === 'price_alert_triggered')!;
    expect(received.payload.data).toMatchObject({
      user_id: user.id,
      alerts: [{ alert_id: alert.id, price: '150' }],
    });
    await stop();

    await start();
    price('R1USDT', '151'); // still above: the same episode
    price('R1USDT', '152');
    const sentinel = await app!
      .http()
      .post('/alerts')
      .set(user.auth)
      .send({ symbol: 'R1USDT', condition: 'below', threshold: '10', channels: ['socket'] })
      .expect(201);
    price('R1USDT', '5'); // the sentinel fires; the above rule re-arms
    await waitForHistory(user, 2);
    expect((await history(user)).map((f) => f.alert_id)).toEqual([sentinel.body.id, alert.id]);
    price('R1USDT', '150'); // a new episode: fires
    await waitForHistory(user, 3);
    expect(await history(user, alert.id)).toHaveLength(2);
  });

  it('retries a failed email after a restart: failed, then sent once', async () => {
    await start();
    const user = await signUp(app!);
    await app!
      .http()
      .post('/alerts')
      .set(user.auth)
      .send({ symbol: 'R2USDT', condition: 'below', threshold: '1', channels: ['email'] })
      .expect(201);
    await smtp.stop();
    try {
      price('R2USDT', '0.5');
      await waitFor(
        async () => (await history(user))[0]?.deliveries[0]?.status === 'failed',
        10_000,
        'a failed attempt',
      );
      await stop();
    } finally {
      await smtp.start();
    }
    await start();
    await waitFor(async () => (await history(user))[0]?.deliveries[0]?.status === 'sent', 10_000, 'sent');
    const [email] = (await history(user))[0].deliveries;
    expect(email.attempts).toBeGreaterThanOrEqual(2);
    expect(email.next_attempt_at).toBeNull();
    expect(smtp.to(user.email)).toHaveLength(1);
    expect(smtp.to(user.email)[0].subject).toBe('Price alert: R2USDT is at or below 1');
  });

  it('without SMTP_HOST records the email as failed with a clear error and does not retry', async () => {
    await start({ SMTP_HOST: '' });
    const user = await signUp(app!);
    await app!
      .http()
      .post('/alerts')
      .set(user.auth)
      .send({ symbol: 'R3USDT', condition: 'above', threshold: '1', channels: ['email', 'socket'] })
      .expect(201);
    price('R3USDT', '2');
    await waitFor(
      async () =>
        (await history(user))[0]?.deliveries.find((d) => d.channel === 'email')?.status === 'failed',
      10_000,
      'failed email',
    );
    const deliveries = (await history(user))[0].deliveries;
    expect(deliveries.find((d) => d.channel === 'email')).toMatchObject({
      status: 'failed',
      attempts: 1,
      next_attempt_at: null,
      last_error: expect.stringMatching(/SMTP is not configured: set SMTP_HOST/) as unknown,
    });
    expect(deliveries.find((d) => d.channel === 'socket')).toMatchObject({ status: 'sent' });
  });

  it('with two processes on one database, one evaluates: a rule created through either fires once', async () => {
    await start();
    const connections = exchange.connections.length;
    const second = await startTestApp(env(), database);
    try {
      await exchange.waitForConnections(connections + 1);
      const user = await signUp(app!);
      const viaSecond = (
        await second
          .http()
          .post('/alerts')
          .set(user.auth)
          .send({ symbol: 'R3USDT', condition: 'crosses_down', threshold: '50', channels: ['socket'] })
          .expect(201)
      ).body as { id: string };
      const viaFirst = (
        await app!
          .http()
          .post('/alerts')
          .set(user.auth)
          .send({ symbol: 'R3USDT', condition: 'crosses_down', threshold: '60', channels: ['socket'] })
          .expect(201)
      ).body as { id: string };
      // both processes receive every price; only the leader evaluates
      await waitFor(
        async () => {
          price('R3USDT', '100');
          await new Promise((resolve) => setTimeout(resolve, 100));
          const alerts = (await app!.http().get('/alerts').set(user.auth).expect(200)).body as Array<{
            armed: boolean;
          }>;
          return alerts.every((a) => a.armed);
        },
        10_000,
        'both rules armed by a price above them',
      );
      price('R3USDT', '40');
      await waitForHistory(user, 2);
      await new Promise((resolve) => setTimeout(resolve, 600)); // more than a coalescing window
      const firings = await history(user);
      expect(firings.map((f) => f.alert_id).sort()).toEqual([viaFirst.id, viaSecond.id].sort());
    } finally {
      await second.close();
    }
  });

  it('another process takes over the evaluation when the leader stops', async () => {
    await start(); // the leader
    const connections = exchange.connections.length;
    const follower = await startTestApp(env(), database);
    try {
      await exchange.waitForConnections(connections + 1);
      const user = await signUp(follower);
      await follower
        .http()
        .post('/alerts')
        .set(user.auth)
        .send({ symbol: 'R2USDT', condition: 'above', threshold: '400', channels: ['socket'] })
        .expect(201);
      await stop(); // the leader's lock goes with its connection
      await waitFor(
        async () => {
          price('R2USDT', '500');
          await new Promise((resolve) => setTimeout(resolve, 300));
          const page = await follower.http().get('/alerts/history').set(user.auth).expect(200);
          return (page.body as { items: unknown[] }).items.length === 1;
        },
        15_000,
        'the follower to take over and fire',
      );
    } finally {
      await follower.close();
    }
  });

  it('gives an email up after SMTP_MAX_ATTEMPTS: failed, attempts counted, no further retry', async () => {
    await start({ SMTP_MAX_ATTEMPTS: '2' });
    const user = await signUp(app!);
    await app!
      .http()
      .post('/alerts')
      .set(user.auth)
      .send({ symbol: 'R1USDT', condition: 'crosses_down', threshold: '0.001', channels: ['email'] })
      .expect(201);
    await smtp.stop();
    try {
      price('R1USDT', '1');
      price('R1USDT', '0.0005');
      await waitFor(
        async () => {
          const email = (await history(user))[0]?.deliveries[0];
          return email?.status === 'failed' && email.next_attempt_at === null;
        },
        10_000,
        'the email given up',
      );
      const email = (await history(user))[0].deliveries[0];
      expect(email.attempts).toBe(2);
      expect(email.last_error).toMatch(/ECONNREFUSED/);
    } finally {
      await smtp.start();
    }
    await new Promise((resolve) => setTimeout(resolve, 800)); // several worker rounds
    expect((await history(user))[0].deliveries[0]).toMatchObject({ status: 'failed', attempts: 2 });
    expect(smtp.to(user.email)).toHaveLength(0);
  });
});
