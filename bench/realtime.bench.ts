/**
 * Realtime fan-out: N socket.io clients (5,000 at scale 1), each alone in its own wallet room; one
 * deposit event per room, committed to event_log and relayed exactly as a monitor-only process
 * does (EmitterRelay → @socket.io/postgres-emitter → NOTIFY), received by an API process
 * (`node dist/src/main.js`, APP_ROLE=api, a child process) through the Postgres adapter.
 *
 * The server runs alone in its child process; the clients and the publisher share this process,
 * so commit and receive times come from one clock.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pg from 'pg';
import { io, type Socket } from 'socket.io-client';
import type { DataSource } from 'typeorm';

import { createDataSource } from '../src/database/data-source.js';
import {
  type DepositEventData,
  type LoggedEvent,
  type NewEvent,
  walletRoom,
} from '../src/events/domain-events.js';
import { EventBus } from '../src/events/event-bus.js';
import { EventLogRepository } from '../src/events/event-log.repository.js';
import { EmitterRelay } from '../src/realtime/emitter-relay.js';
import { PostgresEngine } from '../src/realtime/postgres-engine.js';
import type { BenchContext, BenchSection, BenchSectionRunner } from './bench-types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN_JS = path.join(here, '..', 'src', 'main.js');
const JWT_SECRET = randomBytes(32).toString('hex');
/** Events per append transaction, like the deposits of one busy block. */
const EVENTS_PER_COMMIT = 250;
const CONNECT_CONCURRENCY = 200;
const ROUNDS = 5;

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/** CPU seconds (user + system) a process has used, from /proc. */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const rssBytes = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? NaN) * 1024;
};

async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function depositData(address: string, n: number): DepositEventData {
  return {
    deposit_id: `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
    network: 'devnet',
    chain_id: '31337',
    tx_hash: `0x${n.toString(16).padStart(64, '0')}`,
    log_index: -1,
    block_number: String(1000 + Math.floor(n / EVENTS_PER_COMMIT)),
    block_hash: `0x${(n + 1).toString(16).padStart(64, 'a')}`,
    from_address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    wallet_address: address,
    asset: { type: 'native', symbol: 'ETH', contract: null, decimals: 18 },
    amount: '0.25',
    amount_base_units: '250000000000000000',
    confirmations: 1,
    required_confirmations: 3,
    status: 'pending',
  };
}

interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function startServer(databaseUrl: string): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN_JS], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      APP_ROLE: 'api',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET,
      DEVNET_ENABLED: 'false',
      ALERTS_ENABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok === true,
    60_000,
    `the API process (output: ${output.slice(-500)})`,
  );
  return { child, url, output: () => output };
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function token(url: string): Promise<{ token: string; userId: string }> {
  const email = `bench-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const post = async (route: string) => {
    const response = await fetch(`${url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (!response.ok) throw new Error(`POST ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, string>;
  };
  const user = await post('/users');
  const login = await post('/auth/login');
  return { token: login.access_token, userId: user.id };
}

export const run: BenchSectionRunner = async (ctx: BenchContext): Promise<BenchSection> => {
  const clientCount = Math.max(100, Math.round(5000 * ctx.scale));
  // Each client costs a descriptor here and one in the server (a child: same limit), plus slack.
  const openFiles = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  if (Number.isFinite(openFiles) && openFiles < clientCount + 1000) {
    throw new Error(
      `ulimit -n is ${openFiles}: ${clientCount} clients need at least ${clientCount + 1000} (raise it with ulimit -n)`,
    );
  }
  const name = `cdm_bench_rt_${randomBytes(4).toString('hex')}`;
  await withAdmin(ctx.databaseServerUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ctx.databaseServerUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();

  let server: Server | undefined;
  let dataSource: DataSource | undefined;
  let relay: EmitterRelay | undefined;
  const sockets: Socket[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    ctx.log(`starting the API process (APP_ROLE=api) and ${clientCount} wallets`);
    server = await startServer(databaseUrl);
    const pid = server.child.pid!;
    const { token: accessToken, userId } = await token(server.url);
    const addresses = Array.from({ length: clientCount }, () => `0x${randomBytes(20).toString('hex')}`);
    dataSource = createDataSource(databaseUrl, 4);
    await dataSource.initialize();
    await dataSource.query(`INSERT INTO wallets (user_id, address) SELECT $1, unnest($2::text[])`, [
      userId,
      addresses,
    ]);

    await sleep(1000);
    const rssBefore = rssBytes(pid);
    ctx.log(`connecting ${clientCount} clients`);
    const received = new Map<number, number>(); // event_id → receive time
    const connectStarted = performance.now();
    for (let i = 0; i < addresses.length; i += CONNECT_CONCURRENCY) {
      await Promise.all(
        addresses.slice(i, i + CONNECT_CONCURRENCY).map(
          (address) =>
            new Promise<void>((resolve, reject) => {
              const socket = io(server!.url, {
                path: '/ws',
                transports: ['websocket'],
                auth: { token: accessToken },
                query: { wallet_address: address },
                reconnection: false,
                forceNew: true,
              });
              sockets.push(socket);
              socket.on('deposit_detected', (payload: { event_id: number }) => {
                received.set(payload.event_id, performance.now());
              });
              socket.once('connect', () => resolve());
              socket.once('connect_error', reject);
            }),
        ),
      );
    }
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    // The handshake joins the wallet room just after `connect`; give the last ones a moment.
    await sleep(2000);
    const rssAfter = rssBytes(pid);

    // A bare LISTEN on the adapter's channel, to time the Postgres hop apart from the API process.
    const listener = new pg.Client({ connectionString: databaseUrl });
    await listener.connect();
    let notifications = 0;
    let lastNotification = 0;
    listener.on('notification', () => {
      notifications++;
      lastNotification = performance.now();
    });
    await listener.query(`LISTEN "socket.io#/"`);
    cleanups.push(() => listener.end());

    const bus = new EventBus();
    relay = new EmitterRelay(bus, new PostgresEngine(databaseUrl));
    relay.onModuleInit();
    const log = new EventLogRepository(dataSource);

    /**
     * `paced`: each block of events is published as soon as its transaction commits, as the
     * monitor does (latency commit → client). `burst`: every event is committed first, then all are
     * published at once, so the rate measures the realtime path (NOTIFY → adapter → sockets)
     * rather than how fast this process can append to event_log.
     */
    const runRound = async (kind: 'paced' | 'burst', round: number) => {
      received.clear();
      notifications = 0;
      const sentAt = new Map<number, number>();
      const serverCpu = cpuSeconds(pid);
      const ownCpu = process.cpuUsage();
      const blocks: LoggedEvent[][] = [];
      let started = performance.now();
      for (let i = 0; i < addresses.length; i += EVENTS_PER_COMMIT) {
        const events: NewEvent[] = addresses.slice(i, i + EVENTS_PER_COMMIT).map((address) => ({
          type: 'deposit.detected',
          room: walletRoom(address),
          data: depositData(address, serial++),
        }));
        const logged = await dataSource!.transaction((manager) => log.append(manager, events));
        if (kind === 'burst') {
          blocks.push(logged);
          continue;
        }
        const now = performance.now();
        for (const event of logged) sentAt.set(event.id, now);
        bus.publish(logged);
      }
      if (kind === 'burst') {
        started = performance.now();
        for (const logged of blocks) {
          for (const event of logged) sentAt.set(event.id, started);
          bus.publish(logged);
        }
      }
      const published = performance.now();
      await relay!.drained();
      const notified = performance.now();
      await until(() => received.size >= sentAt.size, 60_000, `round ${round}'s events`).catch(
        () => undefined,
      );
      let last = started;
      const latencies: number[] = [];
      for (const [id, at] of sentAt) {
        const got = received.get(id);
        if (got === undefined) {
          lost++;
          continue;
        }
        latencies.push(got - at);
        last = Math.max(last, got);
      }
      const rate = received.size / ((last - started) / 1000);
      const own = process.cpuUsage(ownCpu);
      serverCpuPerEvent.push((cpuSeconds(pid) - serverCpu) / Math.max(1, received.size));
      roundNotes.push(
        `${kind} round ${round}: ${received.size}/${sentAt.size} events, ${rate.toFixed(0)} events/s; ` +
          `${kind === 'paced' ? 'appended and published' : 'published'} in ${(published - started).toFixed(0)} ms, ` +
          `NOTIFYs done at ${(notified - started).toFixed(0)} ms, ` +
          `${notifications} NOTIFYs at a bare listener by ${(lastNotification - started).toFixed(0)} ms, last received at ${(last - started).toFixed(0)} ms; ` +
          `CPU: server ${(cpuSeconds(pid) - serverCpu).toFixed(2)} s, bench ${((own.user + own.system) / 1e6).toFixed(2)} s`,
      );
      ctx.log(roundNotes.at(-1)!);
      await sleep(500);
      return { rate, latencies };
    };

    let lost = 0;
    let serial = 0;
    const roundNotes: string[] = [];
    const serverCpuPerEvent: number[] = [];
    const paced: number[] = [];
    const burst: number[] = [];
    const burstRates: number[] = [];
    const pacedRates: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const p = await runRound('paced', round);
      paced.push(...p.latencies);
      pacedRates.push(p.rate);
      const b = await runRound('burst', round);
      burst.push(...b.latencies);
      burstRates.push(b.rate);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    paced.sort((a, b) => a - b);
    burst.sort((a, b) => a - b);
    const rate = median(burstRates);
    const p99 = percentile(paced, 99);
    const perConnection = (rssAfter - rssBefore) / clientCount;
    return {
      title: 'Realtime fan-out (Socket.IO)',
      rows: [
        {
          metric: `delivered events/s, one API process (${clientCount} rooms, burst, median of ${ROUNDS})`,
          value: `${rate.toFixed(0)} events/s`,
          target: '≥ 20,000 events/s',
          pass: rate >= 20_000,
        },
        {
          metric: `delivered events/s, paced by appending ${EVENTS_PER_COMMIT}-event blocks (median of ${ROUNDS})`,
          value: `${median(pacedRates).toFixed(0)} events/s`,
        },
        {
          metric: 'delivery latency p50, commit → client (paced)',
          value: `${percentile(paced, 50).toFixed(1)} ms`,
        },
        {
          metric: 'delivery latency p99, commit → client (paced)',
          value: `${p99.toFixed(1)} ms`,
          target: '< 250 ms',
          pass: p99 < 250,
        },
        {
          metric: `delivery latency p99, publish → client (burst of ${clientCount})`,
          value: `${percentile(burst, 99).toFixed(1)} ms`,
        },
        {
          metric: 'API process CPU per delivered event (→ events/s per busy core)',
          value: `${(median(serverCpuPerEvent) * 1e6).toFixed(0)} µs (→ ${(1 / median(serverCpuPerEvent)).toFixed(0)} events/s)`,
        },
        { metric: 'events lost', value: String(lost), target: '0', pass: lost === 0 },
        {
          metric: 'server memory per connection (RSS delta / connections)',
          value: `${(perConnection / 1024).toFixed(1)} KiB`,
        },
        {
          metric: `connect + authenticate + join, ${clientCount} clients`,
          value: `${connectSeconds.toFixed(1)} s`,
        },
      ],
      notes: [
        `Server: \`node dist/src/main.js\` with APP_ROLE=api in a child process; ${clientCount} socket.io-client websocket clients in the bench process, each joined to its own wallet room by the handshake (JWT + ownership check).`,
        `Publisher: the bench process appends ${EVENTS_PER_COMMIT} events per transaction to event_log and relays them with EmitterRelay (the role-monitor code path: @socket.io/postgres-emitter, NOTIFY, 4 ordered shards); the API process receives them through @socket.io/postgres-adapter.`,
        'Latency (paced): from the append transaction committing to the client callback, one clock. Rate (burst): events received / (last receive − publish start), after committing them all.',
        `Memory: the API process's VmRSS after connecting minus before (${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB), no forced GC.`,
        ...roundNotes,
        `Open-file limit (ulimit -n): ${openFiles}.`,
        'The clients and the publisher share the bench process and the 2 cores with the server and PostgreSQL, so the receive side competes with the server for CPU.',
      ],
    };
  } finally {
    for (const socket of sockets) socket.disconnect();
    for (const cleanup of cleanups) await cleanup();
    await relay?.onApplicationShutdown();
    await dataSource?.destroy();
    if (server) await stopServer(server);
    await withAdmin(ctx.databaseServerUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
};
