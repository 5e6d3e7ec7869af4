import { randomBytes } from 'node:crypto';

import { EventBus } from '../../src/events/event-bus.js';
import { EventLogRepository } from '../../src/events/event-log.repository.js';
import { EmitterRelay } from '../../src/realtime/emitter-relay.js';
import { RedisEngine } from '../../src/realtime/redis-engine.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { depositData, depositEvent } from './events.js';
import { TEST_REDIS_URL } from './processes-scenario.js';
import { connectClient, type TestClient } from './realtime-client.js';

/**
 * The gateway with REDIS_URL set: its Redis connections go through a TCP proxy the test can cut;
 * a "monitor" (EmitterRelay on its own RedisEngine, straight to Redis) publishes as a
 * monitor-only process does, through @socket.io/redis-emitter.
 */
describe('Realtime over Redis', () => {
  let app: TestApp;
  let proxy: TcpProxy;
  let monitor: EmitterRelay;
  let alice: Awaited<ReturnType<typeof signUp>>;
  const clients: TestClient[] = [];
  const bus = new EventBus();

  const connect = async (...args: Parameters<typeof connectClient>) => {
    const client = await connectClient(...args);
    clients.push(client);
    return client;
  };
  const addWallet = async () => {
    const address = `0x${randomBytes(20).toString('hex')}`;
    await app.http().post('/wallets').set(alice.auth).send({ address }).expect(201);
    return address;
  };
  /** What a monitor process does: append in a transaction, relay after commit. */
  const commitAndRelay = async (events: ReturnType<typeof depositEvent>[]) => {
    const log = app.app.get(EventLogRepository);
    const logged = await app.dataSource.transaction((manager) => log.append(manager, events));
    bus.publish(logged);
    await monitor.drained();
    return logged;
  };

  beforeAll(async () => {
    const redis = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    app = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    alice = await signUp(app);
    monitor = new EmitterRelay(bus, await RedisEngine.connect(TEST_REDIS_URL, false));
    monitor.onModuleInit();
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await monitor?.onApplicationShutdown();
    await app?.close();
    await proxy?.close();
  });

  it('delivers events relayed through the Redis emitter, in order, once each', async () => {
    const wallet = await addWallet();
    const client = await connect(app.baseUrl, { token: alice.token });
    await client.request('subscribe', { wallet_address: wallet });
    const data = depositData(wallet);
    const logged = await commitAndRelay([
      depositEvent('deposit.detected', data),
      depositEvent('deposit.confirmation', { ...data, confirmations: 2 }),
      depositEvent('deposit.completed', { ...data, confirmations: 3, status: 'completed' }),
    ]);
    await waitFor(() => (client.received.length >= 3 ? true : undefined), 5_000, 'the relayed events');
    await new Promise((resolve) => setTimeout(resolve, 200)); // and nothing more
    expect(client.received).toEqual(
      logged.map((e, i) => ({
        name: ['deposit_detected', 'confirmation_update', 'deposit_completed'][i],
        payload: {
          event_id: e.id,
          type: ['deposit_detected', 'confirmation_update', 'deposit_completed'][i],
          data: e.data,
        },
      })),
    );
  });

  it('replays with since_event_id and meets the Redis live stream with no gap or duplicate', async () => {
    const wallet = await addWallet();
    const missed = await commitAndRelay([
      depositEvent('deposit.detected', depositData(wallet)),
      depositEvent('deposit.confirmation', depositData(wallet)),
    ]);
    const client = await connect(app.baseUrl, { token: alice.token });
    // Live events keep coming while the replay runs.
    let stop = false;
    const live: number[] = [];
    const writer = (async () => {
      while (!stop) {
        const [event] = await commitAndRelay([depositEvent('deposit.confirmation', depositData(wallet))]);
        live.push(event.id);
      }
    })();
    await waitFor(() => (live.length > 0 ? true : undefined), 5_000, 'a live event');
    const ack = await client.request('subscribe', {
      wallet_address: wallet,
      since_event_id: missed[0].id - 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop = true;
    await writer;
    expect(ack).toMatchObject({ ok: true });
    const expected = [...missed.map((e) => e.id), ...live].sort((a, b) => a - b);
    await waitFor(() => (client.received.length >= expected.length ? true : undefined), 5_000, 'every event');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.ids()).toEqual(expected);
  });

  it("catches up what was published while the gateway's Redis connection was down", async () => {
    const wallet = await addWallet();
    const client = await connect(app.baseUrl, { token: alice.token });
    await client.request('subscribe', { wallet_address: wallet });
    const [before] = await commitAndRelay([depositEvent('deposit.detected', depositData(wallet))]);
    await waitFor(() => (client.received.length === 1 ? true : undefined), 5_000, 'the first event');

    proxy.cut();
    // Published to Redis while the gateway has no subscription: Redis keeps nothing for it.
    const during = await commitAndRelay([
      depositEvent('deposit.confirmation', depositData(wallet)),
      depositEvent('deposit.completed', depositData(wallet)),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.received).toHaveLength(1);
    proxy.restore();
    await waitFor(() => (client.received.length >= 3 ? true : undefined), 15_000, 'the catch-up');
    const [after] = await commitAndRelay([depositEvent('deposit.orphaned', depositData(wallet))]);
    await waitFor(() => (client.received.length >= 4 ? true : undefined), 10_000, 'the live event');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(client.ids()).toEqual([before.id, during[0].id, during[1].id, after.id]);
  });

  it("recovers a short drop's missed events published by another process (connection state recovery)", async () => {
    const wallet = await addWallet();
    const client = await connect(app.baseUrl, { token: alice.token, reconnection: true });
    await client.request('subscribe', { wallet_address: wallet });
    const [before] = await commitAndRelay([depositEvent('deposit.detected', depositData(wallet))]);
    await waitFor(() => (client.received.length === 1 ? true : undefined), 5_000, 'the first event');

    const reconnected = new Promise<void>((resolve) => client.socket.io.once('reconnect', () => resolve()));
    const dropped = new Promise<void>((resolve) => client.socket.once('disconnect', () => resolve()));
    client.socket.io.engine.close();
    await dropped;
    // The wallet's room has no member in the gateway now; the events must still be kept for recovery.
    const during = await commitAndRelay([
      depositEvent('deposit.confirmation', depositData(wallet)),
      depositEvent('deposit.completed', depositData(wallet)),
    ]);
    await reconnected;
    await waitFor(() => (client.received.length >= 3 ? true : undefined), 5_000, 'the missed events');
    expect(client.socket.recovered).toBe(true);
    expect(client.ids()).toEqual([before.id, during[0].id, during[1].id]);
  });
});
