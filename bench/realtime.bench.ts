/**
 * Realtime fan-out: N socket.io clients (5,000 at scale 1), each alone in its own wallet room;
 * one deposit event per room per round, committed to event_log. Three deployments, measured one
 * after the other in the same run with the same client count, rounds and events:
 *
 * (a) `all`: one process (role all, the default deployment) commits the events itself, as its
 *     monitor does, and delivers them to its own clients.
 * (b) `postgres`: a monitor-only publisher (this process, EmitterRelay → @socket.io/postgres-emitter
 *     → NOTIFY) and an API process (role api, @socket.io/postgres-adapter).
 * (c) `redis`: the same with REDIS_URL set (@socket.io/redis-emitter → @socket.io/redis-adapter).
 *
 * The server is a child process (`dist/bench/realtime-server.js`: the application's AppModule on
 * HTTP); the clients run here. Commit and receive times are wall-clock with sub-ms resolution
 * (performance.timeOrigin + now), comparable across the two processes on one machine.
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
import { EventBus } from '../src/events/event-bus.js';
import { EventLogRepository } from '../src/events/event-log.repository.js';
import { EmitterRelay } from '../src/realtime/emitter-relay.js';
import { PostgresEngine } from '../src/realtime/postgres-engine.js';
import type { RealtimeEngine } from '../src/realtime/realtime-engine.js';
import { RedisEngine } from '../src/realtime/redis-engine.js';
import type { BenchContext, BenchRow, BenchSection, BenchSectionRunner } from './bench-types.js';
import {
  type CommitReply,
  type CommitRequest,
  commitRound,
  EVENTS_PER_COMMIT,
  wallClock,
} from './realtime-events.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SERVER_JS = path.join(here, 'realtime-server.js');
const JWT_SECRET = randomBytes(32).toString('hex');
const CONNECT_CONCURRENCY = 200;
const ROUNDS = 5;
/** Where deployment (c) finds Redis; not reachable means (c) is reported as not measured. */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

type DeploymentKey = 'all' | 'postgres' | 'redis';

const DEPLOYMENTS: { key: DeploymentKey; label: string }[] = [
  { key: 'all', label: '(a) one all-role process, its own events' },
  { key: 'postgres', label: '(b) monitor → api over PostgreSQL' },
  { key: 'redis', label: '(c) monitor → api over Redis' },
];

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
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

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

interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Role `all` only: the server commits and publishes a round itself. */
  commit(request: CommitRequest): Promise<CommitReply>;
}

async function startServer(databaseUrl: string, deployment: DeploymentKey): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER_JS], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      APP_ROLE: deployment === 'all' ? 'all' : 'api',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JWT_SECRET,
      DEVNET_ENABLED: 'false',
      ALERTS_ENABLED: 'false',
      ...(deployment === 'redis' ? { REDIS_URL } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  await until(
    async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok === true,
    60_000,
    `the server process (output: ${output.slice(-500)})`,
  );
  const commit = (request: CommitRequest) =>
    new Promise<CommitReply>((resolve, reject) => {
      child.once('message', (reply: CommitReply | { error: string }) =>
        'error' in reply ? reject(new Error(reply.error)) : resolve(reply),
      );
      child.send(request);
    });
  return { child, url, output: () => output, commit };
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
  const email = `bench-${randomBytes(6).toString('hex')}@example.com`;
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

interface Measured {
  rate: number;
  pacedRate: number;
  p50: number;
  p99: number;
  burstP99: number;
  lost: number;
  perConnectionKiB: number;
  connectSeconds: number;
  cpuPerEventUs: number;
  notes: string[];
}

/** Serial numbers of bench events, unique across deployments (they share one event_log). */
let serial = 0;

async function measure(
  ctx: BenchContext,
  deployment: DeploymentKey,
  databaseUrl: string,
  dataSource: DataSource,
  clientCount: number,
): Promise<Measured> {
  let server: Server | undefined;
  let relay: EmitterRelay | undefined;
  const sockets: Socket[] = [];
  try {
    ctx.log(`[${deployment}] starting the server process and ${clientCount} wallets`);
    server = await startServer(databaseUrl, deployment);
    const pid = server.child.pid!;
    const { token: accessToken, userId } = await token(server.url);
    const addresses = Array.from({ length: clientCount }, () => `0x${randomBytes(20).toString('hex')}`);
    await dataSource.query(`INSERT INTO wallets (user_id, address) SELECT $1, unnest($2::text[])`, [
      userId,
      addresses,
    ]);

    await sleep(1000);
    const rssBefore = rssBytes(pid);
    ctx.log(`[${deployment}] connecting ${clientCount} clients`);
    const received = new Map<number, number>(); // event_id → receive time (wall clock)
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
                received.set(payload.event_id, wallClock());
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

    // Who commits and publishes: the server itself (a), or a monitor-like publisher here (b, c).
    let publish: (request: CommitRequest) => Promise<CommitReply>;
    if (deployment === 'all') {
      publish = (request) => server!.commit(request);
    } else {
      const engine: RealtimeEngine =
        deployment === 'redis'
          ? await RedisEngine.connect(REDIS_URL, false)
          : new PostgresEngine(databaseUrl);
      const bus = new EventBus();
      relay = new EmitterRelay(bus, engine);
      relay.onModuleInit();
      const log = new EventLogRepository(dataSource);
      publish = async (request) => {
        const reply = await commitRound(request, dataSource, log, bus);
        await relay!.drained();
        return reply;
      };
    }

    let lost = 0;
    const notes: string[] = [];
    const cpuPerEvent: number[] = [];
    const runRound = async (kind: 'paced' | 'burst', round: number) => {
      received.clear();
      const serverCpu = cpuSeconds(pid);
      const ownCpu = process.cpuUsage();
      const reply = await publish({ kind, addresses, firstSerial: serial });
      serial += addresses.length;
      const sentAt = new Map(reply.sent);
      await until(() => received.size >= sentAt.size, 60_000, `round ${round}'s events`).catch(
        () => undefined,
      );
      let last = reply.started;
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
      const rate = received.size / ((last - reply.started) / 1000);
      const own = process.cpuUsage(ownCpu);
      const serverSeconds = cpuSeconds(pid) - serverCpu;
      cpuPerEvent.push(serverSeconds / Math.max(1, received.size));
      notes.push(
        `${deployment} ${kind} round ${round}: ${received.size}/${sentAt.size} events, ${rate.toFixed(0)} events/s; ` +
          `${kind === 'paced' ? 'committed and published' : 'published'} in ${(reply.published - reply.started).toFixed(0)} ms, ` +
          `last received at ${(last - reply.started).toFixed(0)} ms; ` +
          `CPU: server ${serverSeconds.toFixed(2)} s, bench ${((own.user + own.system) / 1e6).toFixed(2)} s`,
      );
      ctx.log(notes.at(-1)!);
      await sleep(500);
      return { rate, latencies };
    };

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
    paced.sort((a, b) => a - b);
    burst.sort((a, b) => a - b);
    notes.push(
      `${deployment}: server VmRSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB with ${clientCount} connections`,
    );
    return {
      rate: median(burstRates),
      pacedRate: median(pacedRates),
      p50: percentile(paced, 50),
      p99: percentile(paced, 99),
      burstP99: percentile(burst, 99),
      lost,
      perConnectionKiB: (rssAfter - rssBefore) / clientCount / 1024,
      connectSeconds,
      cpuPerEventUs: median(cpuPerEvent) * 1e6,
      notes,
    };
  } finally {
    for (const socket of sockets) socket.disconnect();
    await relay?.onApplicationShutdown();
    if (server) await stopServer(server);
  }
}

/** Is Redis accepting connections at REDIS_URL? (c) is skipped, and says why, when it is not. */
function redisProblem(): Promise<string | undefined> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(3000, () => socket.destroy(new Error('no answer within 3 s')));
    socket.once('connect', () => {
      socket.end();
      resolve(undefined);
    });
    socket.once('error', (error) => resolve(error.message));
  });
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

  let dataSource: DataSource | undefined;
  try {
    dataSource = createDataSource(databaseUrl, 4);
    await dataSource.initialize();
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const redisDown = await redisProblem();
    for (const { key, label } of DEPLOYMENTS) {
      if (key === 'redis' && redisDown !== undefined) {
        rows.push({ metric: `${label}: not measured`, value: `Redis at ${REDIS_URL}: ${redisDown}` });
        continue;
      }
      const m = await measure(ctx, key, databaseUrl, dataSource, clientCount);
      rows.push(
        {
          metric: `${label}: delivered events/s (${clientCount} rooms, burst, median of ${ROUNDS})`,
          value: `${m.rate.toFixed(0)} events/s`,
          target: '≥ 20,000 events/s',
          pass: m.rate >= 20_000,
        },
        {
          metric: `${label}: delivered events/s, paced by ${EVENTS_PER_COMMIT}-event commits (median of ${ROUNDS})`,
          value: `${m.pacedRate.toFixed(0)} events/s`,
        },
        { metric: `${label}: latency p50, commit → client (paced)`, value: `${m.p50.toFixed(1)} ms` },
        {
          metric: `${label}: latency p99, commit → client (paced)`,
          value: `${m.p99.toFixed(1)} ms`,
          target: '< 250 ms',
          pass: m.p99 < 250,
        },
        {
          metric: `${label}: latency p99, publish → client (burst of ${clientCount})`,
          value: `${m.burstP99.toFixed(1)} ms`,
        },
        {
          metric: `${label}: server CPU per delivered event (→ events/s per busy core)`,
          value: `${m.cpuPerEventUs.toFixed(0)} µs (→ ${(1e6 / m.cpuPerEventUs).toFixed(0)} events/s)`,
        },
        {
          metric: `${label}: server memory per connection (RSS delta / connections)`,
          value: `${m.perConnectionKiB.toFixed(1)} KiB`,
        },
        { metric: `${label}: events lost`, value: String(m.lost), target: '0', pass: m.lost === 0 },
        {
          metric: `${label}: connect + authenticate + join, ${clientCount} clients`,
          value: `${m.connectSeconds.toFixed(1)} s`,
        },
      );
      notes.push(...m.notes);
    }
    return {
      title: 'Realtime fan-out (Socket.IO): one process, Postgres relay, Redis relay',
      rows,
      notes: [
        `Server: \`node dist/bench/realtime-server.js\` (the application's AppModule on HTTP, like dist/src/main.js) in a child process; ${clientCount} socket.io-client websocket clients in the bench process, each joined to its own wallet room by the handshake (JWT + ownership check). The three deployments run one after the other in this run, each with a fresh server process and ${clientCount} fresh clients.`,
        `(a) role all: the server process appends ${EVENTS_PER_COMMIT} events per transaction to event_log and publishes them on its EventBus after commit (as its monitor does); its gateway delivers them (the Postgres adapter still NOTIFYs them for other processes).`,
        `(b)/(c) role api: the bench process appends the same way and relays with EmitterRelay (the role-monitor code path) through @socket.io/postgres-emitter (NOTIFY, 4 ordered shards) or @socket.io/redis-emitter (PUBLISH, one ordered pipelined stream, ${REDIS_URL}); the API process receives through the matching official adapter.`,
        'Latency (paced): from the append transaction committing to the client callback, wall clock (performance.timeOrigin + now in both processes). Rate (burst): events received / (last receive − publish start), after committing them all.',
        'Memory: the server VmRSS after connecting minus before, no forced GC.',
        ...notes,
        `Open-file limit (ulimit -n): ${openFiles}.`,
        'The clients and the publisher share the 2 cores with the server, PostgreSQL and Redis (and other sessions), so the receive side competes with the server for CPU.',
      ],
    };
  } finally {
    await dataSource?.destroy();
    await withAdmin(ctx.databaseServerUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
};
