import { randomBytes } from 'node:crypto';

import { JwtService } from '@nestjs/jwt';
import { Server } from 'socket.io';
import { getAddress } from 'viem';
import pg from 'pg';

import { userRoom } from '../../src/events/domain-events.js';
import { EventBus } from '../../src/events/event-bus.js';
import { EventLogRepository } from '../../src/events/event-log.repository.js';
import { EmitterRelay } from '../../src/realtime/emitter-relay.js';
import { PostgresEngine } from '../../src/realtime/postgres-engine.js';
import { createRealtimeAdapter } from '../../src/realtime/realtime.adapter.js';
import { databaseUrlOf } from '../../src/realtime/realtime-pool.js';
import { RealtimeGateway } from '../../src/realtime/realtime.gateway.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';
import { commitAndPublish, depositData, depositEvent } from './events.js';
import { connectClient, refusal, type TestClient } from './realtime-client.js';

const randomAddress = () => getAddress(`0x${randomBytes(20).toString('hex')}`);

describe(RealtimeGateway.name, () => {
  let app: TestApp;
  let alice: Awaited<ReturnType<typeof signUp>>;
  let bob: Awaited<ReturnType<typeof signUp>>;
  const clients: TestClient[] = [];

  const connect = async (...args: Parameters<typeof connectClient>) => {
    const client = await connectClient(...args);
    clients.push(client);
    return client;
  };
  const addWallet = async (user: typeof alice, address = randomAddress()) => {
    await app.http().post('/wallets').set(user.auth).send({ address }).expect(201);
    return address;
  };

  beforeAll(async () => {
    app = await startTestApp({ CORS_ORIGINS: 'https://app.example.com' });
    alice = await signUp(app);
    bob = await signUp(app);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('handshake', () => {
    it('refuses a connection without a token, saying why', async () => {
      expect(await refusal(app.baseUrl, {})).toMatch(/^unauthorized: missing token/);
    });

    it('refuses a bad or forged token', async () => {
      expect(await refusal(app.baseUrl, { token: 'not-a-jwt' })).toBe(
        'unauthorized: access token is invalid or expired',
      );
      const [header, payload] = alice.token.split('.');
      expect(await refusal(app.baseUrl, { token: `${header}.${payload}.forged-signature` })).toBe(
        'unauthorized: access token is invalid or expired',
      );
    });

    it("refuses another user's wallet and an invalid address in the handshake query", async () => {
      const bobs = await addWallet(bob);
      expect(await refusal(app.baseUrl, { token: alice.token, query: { wallet_address: bobs } })).toBe(
        'forbidden: wallet_address is not one of your wallets',
      );
      expect(await refusal(app.baseUrl, { token: alice.token, query: { wallet_address: '0x1234' } })).toMatch(
        /^forbidden: wallet_address must be a 0x-prefixed 20-byte hex address/,
      );
      const mine = await addWallet(alice);
      expect(
        await refusal(app.baseUrl, {
          token: alice.token,
          query: { wallet_address: mine, since_event_id: 'yesterday' },
        }),
      ).toBe('bad request: since_event_id must be a non-negative whole number');
    });

    it('joins the wallet room named in the handshake query', async () => {
      const wallet = await addWallet(alice);
      const client = await connect(app.baseUrl, { token: alice.token, query: { wallet_address: wallet } });
      const [event] = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(wallet)),
      ]);
      await waitFor(() => (client.received.length === 1 ? true : undefined), 5_000, 'the event');
      expect(client.received[0]).toEqual({
        name: 'deposit_detected',
        payload: { event_id: event.id, type: 'deposit_detected', data: event.data },
      });
    });

    it('applies CORS_ORIGINS to browsers (never *)', async () => {
      const poll = (origin: string) => app.http().get('/ws/?EIO=4&transport=polling').set('Origin', origin);
      const allowed = await poll('https://app.example.com');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
      const other = await poll('https://evil.example.net');
      expect(other.status).toBe(403);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('token expiry', () => {
    it('closes a socket when the token it was opened with expires, saying why', async () => {
      const token = await app.app
        .get(JwtService)
        .signAsync({ sub: alice.id, email: alice.email }, { expiresIn: 2 });
      const client = await connect(app.baseUrl, { token, reconnection: true });
      const reason = await new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
      expect(reason).toBe('io server disconnect'); // the client does not reconnect by itself
      expect(client.received.map((r) => r.name)).toEqual(['session_expired']);
      expect(client.received[0].payload).toEqual({
        error: 'access token expired: reconnect with a fresh token',
      });
    });
  });

  describe('subscribe / unsubscribe', () => {
    it('acknowledges an owned wallet and refuses the rest', async () => {
      const wallet = await addWallet(alice);
      const bobs = await addWallet(bob);
      const client = await connect(app.baseUrl, { token: alice.token });
      expect(await client.request('subscribe', { wallet_address: wallet })).toEqual({ ok: true });
      // Ownership is by lower-case address, whatever case the client sends.
      expect(await client.request('subscribe', { wallet_address: wallet.toLowerCase() })).toEqual({
        ok: true,
      });
      expect(await client.request('subscribe', { wallet_address: bobs })).toEqual({
        ok: false,
        error: 'wallet_address is not one of your wallets',
      });
      const badChecksum = wallet.replace(/[a-f]/, (c) => c.toUpperCase());
      expect(badChecksum).not.toBe(wallet);
      expect(await client.request('subscribe', { wallet_address: badChecksum })).toMatchObject({
        ok: false,
        error: expect.stringMatching(/EIP-55 checksum/),
      });
      expect(await client.request('subscribe', { wallet_address: wallet, since_event_id: -1 })).toEqual({
        ok: false,
        error: 'since_event_id must be a non-negative whole number',
      });
      expect(await client.request('subscribe', 'nope')).toMatchObject({ ok: false });
    });

    it('delivers each event of a subscribed wallet once, in order, with its payload; none of others', async () => {
      const wallet = await addWallet(alice);
      const unwatched = await addWallet(alice);
      const client = await connect(app.baseUrl, { token: alice.token });
      expect(await client.request('subscribe', { wallet_address: wallet })).toEqual({ ok: true });

      const data = depositData(wallet);
      const events = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', data),
        depositEvent('deposit.detected', depositData(unwatched)),
      ]);
      const later = await commitAndPublish(app.app, [
        depositEvent('deposit.confirmation', { ...data, confirmations: 2 }),
        depositEvent('deposit.completed', { ...data, confirmations: 3, status: 'completed' }),
      ]);
      const orphaned = await commitAndPublish(app.app, [
        depositEvent('deposit.orphaned', { ...data, confirmations: 0, status: 'orphaned' }),
      ]);
      const expected = [events[0], ...later, ...orphaned];
      await waitFor(() => (client.received.length >= 4 ? true : undefined), 5_000, 'four events');
      await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more may follow
      expect(client.received.map((r) => r.name)).toEqual([
        'deposit_detected',
        'confirmation_update',
        'deposit_completed',
        'deposit_orphaned',
      ]);
      expect(client.received.map((r) => r.payload)).toEqual(
        expected.map((e, i) => ({ event_id: e.id, type: client.received[i].name, data: e.data })),
      );
      const ids = client.ids();
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(client.received[2].payload.data).toMatchObject({
        tx_hash: data.tx_hash,
        wallet_address: wallet,
        amount: '1.5',
        asset: { symbol: 'ETH' },
        block_number: data.block_number,
        confirmations: 3,
        required_confirmations: 3,
        status: 'completed',
      });
    });

    it("sends the user's price alerts to every socket of that user only", async () => {
      const mine = await connect(app.baseUrl, { token: alice.token });
      const theirs = await connect(app.baseUrl, { token: bob.token });
      const [event] = await commitAndPublish(app.app, [
        {
          type: 'price_alert.triggered',
          room: userRoom(alice.id),
          data: { user_id: alice.id, alerts: [] },
        },
      ]);
      await waitFor(() => (mine.received.length === 1 ? true : undefined), 5_000, 'the alert');
      expect(mine.received[0]).toEqual({
        name: 'price_alert_triggered',
        payload: { event_id: event.id, type: 'price_alert_triggered', data: event.data },
      });
      expect(theirs.received).toEqual([]);
    });

    it('ends the subscription of a wallet deleted after the join', async () => {
      const wallet = await addWallet(alice);
      const witness = await addWallet(alice);
      const client = await connect(app.baseUrl, { token: alice.token });
      await client.request('subscribe', { wallet_address: wallet });
      await client.request('subscribe', { wallet_address: witness });
      const list = await app.http().get(`/wallets/user/${alice.id}`).set(alice.auth).expect(200);
      const { id } = (list.body as { id: string; address: string }[]).find((w) => w.address === wallet)!;
      await app.http().delete(`/wallets/${id}`).set(alice.auth).expect(204);

      await app.app.get(RealtimeGateway).endRevokedSubscriptions();
      await waitFor(() => (client.received.length > 0 ? true : undefined), 5_000, 'the notice');
      expect(client.received[0]).toEqual({
        name: 'subscription_ended',
        payload: {
          wallet_address: wallet.toLowerCase(),
          error: 'wallet_address is no longer one of your wallets',
        },
      });
      await commitAndPublish(app.app, [depositEvent('deposit.detected', depositData(wallet))]);
      const [last] = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(witness)),
      ]);
      await waitFor(() => (client.received.length > 1 ? true : undefined), 5_000, 'the witness event');
      expect(client.received.slice(1).map((r) => r.payload.event_id)).toEqual([last.id]);
    });

    it('stops the events of an unsubscribed wallet', async () => {
      const wallet = await addWallet(alice);
      const client = await connect(app.baseUrl, { token: alice.token });
      await client.request('subscribe', { wallet_address: wallet });
      expect(await client.request('unsubscribe', { wallet_address: wallet })).toEqual({ ok: true });
      const witness = await addWallet(alice);
      await client.request('subscribe', { wallet_address: witness });
      await commitAndPublish(app.app, [depositEvent('deposit.detected', depositData(wallet))]);
      const [last] = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(witness)),
      ]);
      await waitFor(() => (client.received.length > 0 ? true : undefined), 5_000, 'the witness event');
      expect(client.ids()).toEqual([last.id]);
    });
  });

  describe('role monitor', () => {
    it('delivers events relayed through the Postgres emitter, in order, once each', async () => {
      // What a monitor-only process runs: its own EventBus, relayed by NOTIFY to this API process.
      const bus = new EventBus();
      const relay = new EmitterRelay(bus, new PostgresEngine(databaseUrlOf(app.dataSource)));
      relay.onModuleInit();
      try {
        const wallet = await addWallet(alice);
        const client = await connect(app.baseUrl, { token: alice.token });
        await client.request('subscribe', { wallet_address: wallet });
        const data = depositData(wallet);
        const log = app.app.get(EventLogRepository);
        const logged = await app.dataSource.transaction((manager) =>
          log.append(manager, [
            depositEvent('deposit.detected', data),
            depositEvent('deposit.confirmation', { ...data, confirmations: 2 }),
            depositEvent('deposit.completed', { ...data, confirmations: 3, status: 'completed' }),
          ]),
        );
        bus.publish(logged);
        await waitFor(() => (client.received.length >= 3 ? true : undefined), 5_000, 'the relayed events');
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
      } finally {
        await relay.onApplicationShutdown();
      }
    });
  });

  describe('LISTEN outage', () => {
    it("catches up what was notified while the API process's LISTEN connection was down", async () => {
      const bus = new EventBus();
      const relay = new EmitterRelay(bus, new PostgresEngine(databaseUrlOf(app.dataSource)));
      relay.onModuleInit();
      const log = app.app.get(EventLogRepository);
      const commitAndRelay = async (events: ReturnType<typeof depositEvent>[]) => {
        const logged = await app.dataSource.transaction((manager) => log.append(manager, events));
        bus.publish(logged);
        await relay.drained();
        return logged;
      };
      const listenPids = async () =>
        (
          await app.dataSource.query<{ pid: number }[]>(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "socket.io#/"'`,
          )
        ).map((r) => r.pid);
      try {
        const wallet = await addWallet(alice);
        const client = await connect(app.baseUrl, { token: alice.token });
        await client.request('subscribe', { wallet_address: wallet });
        const [before] = await commitAndRelay([depositEvent('deposit.detected', depositData(wallet))]);
        await waitFor(() => (client.received.length === 1 ? true : undefined), 5_000, 'the first event');

        const [pid] = await listenPids();
        expect(pid).toBeDefined();
        await app.dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
        // Notified to nobody in that process: its LISTEN session is gone.
        const during = await commitAndRelay([
          depositEvent('deposit.confirmation', depositData(wallet)),
          depositEvent('deposit.completed', depositData(wallet)),
        ]);
        await waitFor(
          async () => ((await listenPids()).some((p) => p !== pid) ? true : undefined),
          15_000,
          'the adapter to LISTEN again',
        );
        const after = await commitAndRelay([depositEvent('deposit.orphaned', depositData(wallet))]);
        await waitFor(() => (client.received.length >= 4 ? true : undefined), 10_000, 'all four events');
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(client.ids()).toEqual([before.id, ...during.map((e) => e.id), after[0].id]);
      } finally {
        await relay.onApplicationShutdown();
      }
    });
  });

  describe('shutdown', () => {
    /** Adapter options for the tests below: no event ids, an empty log, errors ignored. */
    const quietAdapterOptions = {
      maxDisconnectionDurationMs: 1_000,
      maxRememberedPackets: 10,
      errorHandler: () => undefined,
      eventIdOf: () => undefined,
      readSince: async () => [],
    };
    // CI once hung 60 s in an afterAll: the app closed while its LISTEN connection was still being
    // set up, PubSubClient kept that connection, and the engine's pool.end() waited for it forever.
    it.each([0, 1, 5, 20])(
      'the engine closes when its adapter closed %d ms after creation (LISTEN still connecting)',
      async (delayMs) => {
        const engine = new PostgresEngine(databaseUrlOf(app.dataSource));
        const io = new Server();
        io.adapter(engine.createAdapter(quietAdapterOptions) as unknown as Parameters<Server['adapter']>[0]);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        await io.of('/').adapter.close();
        let timer: NodeJS.Timeout | undefined;
        const outcome = await Promise.race([
          engine.close().then(() => 'closed'),
          new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting after 5 s'), 5_000))),
        ]);
        clearTimeout(timer);
        expect(outcome).toBe('closed');
      },
    );

    /**
     * A real pool whose first `LISTEN` waits, on its real connection, until `release()`: the moment
     * the adapter's LISTEN connection is set up, held open as long as a test needs.
     */
    const heldListenPool = () => {
      const name = `listen-test-${randomBytes(4).toString('hex')}`;
      const pool = new pg.Pool({
        connectionString: databaseUrlOf(app.dataSource),
        max: 2,
        application_name: name,
      });
      pool.on('error', () => undefined);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let reached!: (client: pg.PoolClient) => void;
      const held = new Promise<pg.PoolClient>((resolve) => (reached = resolve));
      let first = true;
      // The promise form is the adapter's LISTEN connection; pool.query uses the callback form.
      const connect = pool.connect.bind(pool) as (...args: unknown[]) => Promise<pg.PoolClient>;
      pool.connect = (async (...args: unknown[]) => {
        if (args.length > 0) return connect(...args);
        const client = await connect();
        const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
        client.query = ((...args: unknown[]) => {
          if (first && typeof args[0] === 'string' && args[0].startsWith('LISTEN')) {
            first = false;
            reached(client);
            return gate.then(() => query(...args));
          }
          return query(...args);
        }) as never;
        return client;
      }) as never;
      const adapterOf = () => {
        const io = new Server();
        io.adapter(
          createRealtimeAdapter(pool, quietAdapterOptions) as unknown as Parameters<Server['adapter']>[0],
        );
        return io.of('/').adapter;
      };
      const listening = async () =>
        (
          await app.dataSource.query<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
            [name],
          )
        )[0].n;
      return { pool, release, held, adapterOf, listening };
    };

    const within = async <T>(ms: number, work: Promise<T>): Promise<T | string> => {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        work,
        new Promise<string>(
          (resolve) => (timer = setTimeout(() => resolve(`still waiting after ${ms} ms`), ms)),
        ),
      ]);
      clearTimeout(timer);
      return outcome;
    };

    it('releases a LISTEN connection that finished its LISTEN after the adapter closed', async () => {
      const { pool, release, held, adapterOf } = heldListenPool();
      const adapter = adapterOf();
      await held;
      await adapter.close();
      release();
      expect(
        await within(
          5_000,
          pool.end().then(() => 'ended'),
        ),
      ).toBe('ended');
    });

    it('keeps one LISTEN connection and a free pool slot, and ends its catch-up, when the connection dies during its LISTEN', async () => {
      // The dead connection's query fails and its 'end' fires: PubSubClient reconnects twice, and
      // the second connection it stores replaced the first without releasing it (the pool has 2).
      const { pool, release, held, adapterOf, listening } = heldListenPool();
      const adapter = adapterOf();
      const dying = await held;
      const ended = new Promise((resolve) => dying.once('end', resolve));
      await app.dataSource.query('SELECT pg_terminate_backend($1)', [
        (dying as unknown as { processID: number }).processID,
      ]);
      await ended;
      release();
      // Both reconnections are 1–3 s away.
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      await waitFor(async () => ((await listening()) > 0 ? true : undefined), 5_000, 'LISTEN again');
      expect(await listening()).toBe(1);
      // The catch-up started for the dead connection ends once a later one listens: it does not
      // hold room broadcasts until its 15 s wait for the dead one runs out.
      const resyncing = () => (adapter as unknown as { resyncBuffer?: unknown[] }).resyncBuffer !== undefined;
      await waitFor(() => (resyncing() ? undefined : true), 2_000, 'the catch-up to end');
      expect(
        await within(
          3_000,
          pool.query('SELECT 1 AS one').then((r) => r.rows[0].one),
        ),
      ).toBe(1);
      await adapter.close();
      expect(
        await within(
          5_000,
          pool.end().then(() => 'ended'),
        ),
      ).toBe('ended');
    });
  });

  describe('resume', () => {
    it('replays what happened while disconnected, then continues live with no gap or duplicate', async () => {
      const wallet = await addWallet(alice);
      const first = await connect(app.baseUrl, { token: alice.token });
      await first.request('subscribe', { wallet_address: wallet });
      const [seen] = await commitAndPublish(app.app, [depositEvent('deposit.detected', depositData(wallet))]);
      await waitFor(() => (first.received.length === 1 ? true : undefined), 5_000, 'the first event');
      first.close();

      // Missed: more than one replay page, interleaved with another wallet's events.
      const other = await addWallet(alice);
      const missed: number[] = [];
      for (let batch = 0; batch < 8; batch++) {
        const logged = await commitAndPublish(app.app, [
          ...Array.from({ length: 1000 }, () => depositEvent('deposit.confirmation', depositData(wallet))),
          depositEvent('deposit.detected', depositData(other)),
        ]);
        missed.push(...logged.filter((e) => e.room === wallet.toLowerCase()).map((e) => e.id));
      }

      const again = await connect(app.baseUrl, { token: alice.token });
      // Live events keep coming while the replay runs: they must follow it, once each.
      let stop = false;
      const live: number[] = [];
      const writer = (async () => {
        while (!stop) {
          const [event] = await commitAndPublish(app.app, [
            depositEvent('deposit.confirmation', depositData(wallet)),
          ]);
          live.push(event.id);
        }
      })();
      await waitFor(() => (live.length > 0 ? true : undefined), 5_000, 'a live event');
      const ack = await again.request('subscribe', { wallet_address: wallet, since_event_id: seen.id });
      await new Promise((resolve) => setTimeout(resolve, 300));
      stop = true;
      await writer;
      expect(ack).toMatchObject({ ok: true });
      expect(ack.replayed as number).toBeGreaterThanOrEqual(missed.length);
      // Some live events were committed after the replay started (so the seam was exercised).
      expect(live.length).toBeGreaterThan((ack.replayed as number) - missed.length);

      const expected = [...missed, ...live];
      await waitFor(
        () => (again.received.length >= expected.length ? true : undefined),
        10_000,
        `${expected.length} events`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(again.ids()).toEqual(expected);
    });

    it('resumes from the handshake query (wallet_address + since_event_id)', async () => {
      const wallet = await addWallet(alice);
      const logged = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(wallet)),
        depositEvent('deposit.confirmation', depositData(wallet)),
        depositEvent('deposit.completed', depositData(wallet)),
      ]);
      const client = await connect(app.baseUrl, {
        token: alice.token,
        query: { wallet_address: wallet, since_event_id: String(logged[0].id) },
      });
      await waitFor(() => (client.received.length >= 2 ? true : undefined), 5_000, 'the replay');
      const [live] = await commitAndPublish(app.app, [depositEvent('deposit.orphaned', depositData(wallet))]);
      await waitFor(() => (client.received.length >= 3 ? true : undefined), 5_000, 'the live event');
      expect(client.ids()).toEqual([logged[1].id, logged[2].id, live.id]);
    });

    it('recovers the connection state after a short drop (Socket.IO connection state recovery)', async () => {
      const wallet = await addWallet(alice);
      const client = await connect(app.baseUrl, { token: alice.token, reconnection: true });
      await client.request('subscribe', { wallet_address: wallet });
      const [before] = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(wallet)),
      ]);
      await waitFor(() => (client.received.length === 1 ? true : undefined), 5_000, 'the first event');

      const reconnected = new Promise<void>((resolve) => client.socket.io.once('reconnect', () => resolve()));
      const dropped = new Promise<void>((resolve) => client.socket.once('disconnect', () => resolve()));
      client.socket.io.engine.close(); // the transport drops; the client reconnects by itself
      await dropped;
      const during = await commitAndPublish(app.app, [
        depositEvent('deposit.confirmation', depositData(wallet)),
        depositEvent('deposit.completed', depositData(wallet)),
      ]);
      await reconnected;
      await waitFor(() => (client.received.length >= 3 ? true : undefined), 5_000, 'the missed events');
      expect(client.socket.recovered).toBe(true);
      const [after] = await commitAndPublish(app.app, [
        depositEvent('deposit.orphaned', depositData(wallet)),
      ]);
      await waitFor(() => (client.received.length >= 4 ? true : undefined), 5_000, 'the live event');
      expect(client.ids()).toEqual([before.id, during[0].id, during[1].id, after.id]);
    });

    /**
     * Alice's socket in a wallet room gets one event (so it holds a recovery offset) and drops;
     * while it is away, another event; it reconnects with `token`.
     */
    const dropAndReconnectWith = async (token: string) => {
      const wallet = await addWallet(alice);
      const client = await connect(app.baseUrl, { token: alice.token, reconnection: true });
      await client.request('subscribe', { wallet_address: wallet });
      const [first] = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(wallet)),
      ]);
      await waitFor(() => (client.received.length === 1 ? true : undefined), 5_000, 'the first event');
      const dropped = new Promise<void>((resolve) => client.socket.once('disconnect', () => resolve()));
      client.socket.io.engine.close();
      await dropped;
      client.socket.auth = { token };
      const outcome = new Promise<string>((resolve) => {
        client.socket.once('connect', () => resolve('connected'));
        client.socket.once('connect_error', (error) => resolve(`refused: ${error.message}`));
      });
      const [missed] = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(wallet)),
      ]);
      const result = await outcome;
      client.socket.io.reconnection(false);
      return { client, wallet, first, missed, result };
    };

    it('refuses to recover a session with an expired token', async () => {
      const expired = app.app.get(JwtService).sign({ sub: alice.id, email: alice.email }, { expiresIn: -60 });
      const { client, first, result } = await dropAndReconnectWith(expired);
      expect(result).toBe('refused: unauthorized: access token is invalid or expired');
      expect(client.socket.recovered).toBe(false);
      expect(client.ids()).toEqual([first.id]);
    });

    it("does not recover a session for another user's token: a fresh connection of that user", async () => {
      const { client, first, missed, result } = await dropAndReconnectWith(bob.token);
      expect(result).toBe('connected');
      expect(client.socket.recovered).toBe(false);
      const [own] = await commitAndPublish(app.app, [
        depositEvent('deposit.detected', depositData(await addWallet(alice))),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(client.ids()).not.toContain(missed.id);
      expect(client.ids()).not.toContain(own.id);
      expect(client.ids()).toEqual([first.id]);
    });

    it('recovers a session with a fresh valid token of the same user', async () => {
      const fresh = app.app.get(JwtService).sign({ sub: alice.id, email: alice.email });
      const { client, first, missed, result } = await dropAndReconnectWith(fresh);
      expect(result).toBe('connected');
      await waitFor(() => (client.received.length >= 2 ? true : undefined), 5_000, 'the missed event');
      expect(client.socket.recovered).toBe(true);
      expect(client.ids()).toEqual([first.id, missed.id]);
    });
  });
});
