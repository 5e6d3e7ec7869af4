import { randomBytes } from 'node:crypto';

import pg from 'pg';
import request from 'supertest';

import type { Hex } from '../../src/common/evm.js';
import { type Anvil, sendEth, startAnvil } from '../helpers/anvil.js';
import { TEST_JWT_SECRET } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort, type ServiceProcess, spawnService, waitFor } from '../helpers/process.js';
import { connectClient, type TestClient } from './realtime-client.js';

/** Where the Redis variant finds Redis (CI starts one on the default port). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Two API processes and two monitor processes (a leader and a standby) on one database, built
 * from dist/ (`npm test` builds first): events cross processes only through the engine's official
 * Socket.IO emitter (monitor) and adapter (API) — PostgreSQL by default, Redis with REDIS_URL —
 * and a client on each API process gets each one once, in order.
 */
export function describeAcrossProcesses(engine: 'postgres' | 'redis'): void {
  describe(`Realtime across processes (${engine})`, () => {
    let anvil: Anvil;
    let db: TestDatabase;
    let log: pg.Pool;
    const monitors: ServiceProcess[] = [];
    const apis: { service: ServiceProcess; url: string }[] = [];
    const clients: TestClient[] = [];
    let token: string;

    const env = () => ({
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      DEVNET_ENABLED: 'false',
      DEVNET_RPC_URL: anvil.wsUrl,
      ALERTS_ENABLED: 'false',
      HOST: '127.0.0.1',
      MONITOR_POLL_INTERVAL_MS: '250',
      ...(engine === 'redis' ? { REDIS_URL: TEST_REDIS_URL } : {}),
    });
    const startMonitor = () => {
      const service = spawnService({ ...env(), APP_ROLE: 'monitor' });
      monitors.push(service);
      return service;
    };
    const leads = (service: ServiceProcess) => service.output().includes('leading devnet');

    /** The wallet's events as the durable log has them: what every client must get, in this order. */
    const logged = async (address: string) =>
      (
        await log.query<{ id: string; type: string; payload: unknown }>(
          `SELECT id, type, payload FROM event_log WHERE room = $1 ORDER BY id`,
          [address.toLowerCase()],
        )
      ).rows.map((r) => ({ event_id: Number(r.id), data: r.payload }));

    const newWallet = async (): Promise<Hex> => {
      const address: Hex = `0x${randomBytes(20).toString('hex')}`;
      // start_block: the deposit is found even if the watch set learns of the wallet a block late.
      const start_block = (await anvil.blockNumber()).toString();
      await request(apis[0].url)
        .post('/wallets')
        .set('Authorization', `Bearer ${token}`)
        .send({ address, start_block })
        .expect(201);
      for (const client of clients) {
        expect(await client.request('subscribe', { wallet_address: address })).toEqual({ ok: true });
      }
      return address;
    };

    /** Every client got exactly the log's events of the wallet, in order, and `done` holds of them. */
    const expectDelivered = async (
      address: string,
      done: (types: string[]) => boolean,
    ): Promise<{ event_id: number; data: unknown }[]> => {
      const room = address.toLowerCase();
      const mine = (client: TestClient) =>
        client.received.filter(
          (r) => (r.payload.data as { wallet_address?: string }).wallet_address?.toLowerCase() === room,
        );
      await waitFor(
        async () => {
          const events = await logged(address);
          const types = mine(clients[0]).map((r) => r.name);
          if (!done(types)) return undefined;
          return clients.every((c) => mine(c).length >= events.length) ? true : undefined;
        },
        40_000,
        'the events on every client',
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // and nothing more
      const events = await logged(address);
      for (const client of clients) {
        expect(mine(client).map((r) => ({ event_id: r.payload.event_id, data: r.payload.data }))).toEqual(
          events,
        );
      }
      return events;
    };

    beforeAll(async () => {
      anvil = await startAnvil();
      db = await createTestDatabase();
      log = new pg.Pool({ connectionString: db.url, max: 2 });
      const leader = startMonitor();
      await waitFor(() => (leads(leader) ? true : undefined), 40_000, 'the first monitor to lead devnet');
      startMonitor(); // the standby
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const service = spawnService({ ...env(), APP_ROLE: 'api', PORT: String(port) });
        const url = `http://127.0.0.1:${port}`;
        apis.push({ service, url });
        await waitFor(
          async () => ((await fetch(`${url}/health`).catch(() => undefined))?.ok ? true : undefined),
          40_000,
          `API process ${i + 1}`,
        );
      }
      const email = `realtime${Date.now()}@example.com`;
      await request(apis[0].url)
        .post('/users')
        .send({ email, password: 'correct horse battery' })
        .expect(201);
      const login = await request(apis[1].url)
        .post('/auth/login')
        .send({ email, password: 'correct horse battery' })
        .expect(200);
      token = login.body.access_token as string;
      for (const api of apis) clients.push(await connectClient(api.url, { token }));
    }, 120_000);

    afterAll(async () => {
      for (const client of clients) client.close();
      for (const service of [...apis.map((a) => a.service), ...monitors]) {
        service.child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const exited = await Promise.race([
          service.exited,
          new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), 10_000))),
        ]);
        clearTimeout(timer); // a pending timer would keep jest from exiting
        if (exited === undefined) service.child.kill('SIGKILL');
      }
      await log?.end();
      await anvil?.stop();
      await db?.drop();
    }, 60_000);

    it(`relays through ${engine} only`, async () => {
      for (const service of [...apis.map((a) => a.service), ...monitors]) {
        expect(service.output()).toContain(`events cross processes through ${engine}`);
      }
      // The Postgres adapter LISTENs on the database; with Redis nothing does.
      const listeners = await log.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN "socket.io%'`,
      );
      if (engine === 'postgres') expect(Number(listeners.rows[0].n)).toBeGreaterThan(0);
      else expect(Number(listeners.rows[0].n)).toBe(0);
    });

    it('delivers detection, confirmations and completion to a client on each API process, once each, in order', async () => {
      const wallet = await newWallet();
      await sendEth(anvil, { to: wallet, valueWei: 1_500_000_000_000_000_000n });
      await anvil.mine(1);
      await waitFor(async () => ((await logged(wallet)).length > 0 ? true : undefined), 30_000, 'detection');
      await anvil.mine(2); // head = inclusion + 2: confirmations 3 = required
      const events = await expectDelivered(wallet, (types) => types.includes('deposit_completed'));
      const names = clients[0].received
        .filter((r) => events.some((e) => e.event_id === r.payload.event_id))
        .map((r) => r.name);
      expect(names[0]).toBe('deposit_detected');
      expect(names.at(-1)).toBe('deposit_completed');
      expect(events.at(-1)!.data).toMatchObject({
        wallet_address: expect.stringMatching(new RegExp(wallet, 'i')),
        amount: '1.5',
        status: 'completed',
        confirmations: 3,
        required_confirmations: 3,
      });
    });

    it('delivers the orphaning of a deposit whose block a reorg replaced', async () => {
      const wallet = await newWallet();
      await sendEth(anvil, { to: wallet, valueWei: 2n * 10n ** 18n });
      await anvil.mine(1);
      await expectDelivered(wallet, (types) => types.includes('deposit_detected'));
      await anvil.reorg(1);
      await anvil.mine(1);
      await expectDelivered(wallet, (types) => types.includes('deposit_orphaned'));
      const names = clients[1].received
        .filter((r) => (r.payload.data as { wallet_address: string }).wallet_address.toLowerCase() === wallet)
        .map((r) => r.name);
      expect(names.indexOf('deposit_orphaned')).toBeGreaterThan(names.indexOf('deposit_detected'));
    });

    it('keeps delivering after the leading monitor is killed and the standby takes over', async () => {
      const leader = monitors.find(leads)!;
      const standby = monitors.find((m) => m !== leader)!;
      leader.child.kill('SIGKILL');
      await leader.exited;
      await waitFor(() => (leads(standby) ? true : undefined), 30_000, 'the standby to lead devnet');

      const wallet = await newWallet();
      await sendEth(anvil, { to: wallet, valueWei: 3n * 10n ** 18n });
      await anvil.mine(1);
      await waitFor(async () => ((await logged(wallet)).length > 0 ? true : undefined), 30_000, 'detection');
      await anvil.mine(2); // head = inclusion + 2: confirmations 3 = required
      await expectDelivered(wallet, (types) => types.includes('deposit_completed'));
    });
  });
}
