/**
 * Webhooks: the delivery pipeline of one process (fan-out from event_log, claims, signed POSTs,
 * recorded attempts — the real WebhookDeliveryWorker in the application's modules) delivering to a
 * local receiver in a child process.
 *
 * (a) throughput: a backlog of deposit events committed at once (in 500-event transactions, as the
 *     monitor commits a block), one message each; deliveries/s from the first commit to the last
 *     message recorded as succeeded.
 * (b) latency: events committed one at a time (every 20 ms, each published on the EventBus after
 *     commit as the monitor does); the delay from the commit to its message's first attempt start
 *     (webhook_attempts.attempted_at, the worker's clock = this process's), p50/p99.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pg from 'pg';
import { DataSource } from 'typeorm';

import { loadConfig } from '../src/config/config.js';
import { ConfigModule } from '../src/config/config.module.js';
import { DatabaseModule } from '../src/database/database.module.js';
import type { DepositEventData, NewEvent } from '../src/events/domain-events.js';
import { EventBus } from '../src/events/event-bus.js';
import { EventLogRepository } from '../src/events/event-log.repository.js';
import { EventsModule } from '../src/events/events.module.js';
import { generateSecret } from '../src/webhooks/webhook-signature.js';
import { WebhookDeliveryModule } from '../src/webhooks/webhook-delivery.module.js';
import type { BenchContext, BenchRow, BenchSection, BenchSectionRunner } from './bench-types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ENDPOINTS = 10;
const COMMIT_BATCH = 500;
const TARGET_RATE = 2_000;
const TARGET_P99_MS = 100;

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function withAdmin<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function startReceiver(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(here, 'webhook-receiver.js')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(/port (\d+)/.exec(chunk.toString())![1])));
  });
  return { child, url: `http://127.0.0.1:${port}/hook` };
}

const depositEvent = (address: string, i: number): NewEvent => {
  const data: DepositEventData = {
    deposit_id: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    network: 'devnet',
    chain_id: '31337',
    tx_hash: `0x${i.toString(16).padStart(64, '0')}`,
    log_index: -1,
    transfer_type: 'native',
    trace_address: null,
    block_number: String(1000 + Math.floor(i / COMMIT_BATCH)),
    block_hash: `0x${'ab'.repeat(32)}`,
    from_address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    wallet_address: address,
    asset: { type: 'native', symbol: 'ETH', contract: null, decimals: 18 },
    amount: '1.5',
    amount_base_units: '1500000000000000000',
    confirmations: 1,
    required_confirmations: 3,
    status: 'pending',
  };
  return { type: 'deposit.detected', room: address, data };
};

export const run: BenchSectionRunner = async (ctx: BenchContext): Promise<BenchSection> => {
  const backlog = Math.max(2_000, Math.round(30_000 * ctx.scale));
  const paced = Math.max(200, Math.round(1_000 * ctx.scale));
  const name = `cdm_bench_wh_${randomBytes(4).toString('hex')}`;
  await withAdmin(ctx.databaseServerUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ctx.databaseServerUrl);
  url.pathname = `/${name}`;
  const receiver = await startReceiver();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url.toString(),
    DEVNET_ENABLED: 'false',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    WEBHOOK_ENDPOINT_CONCURRENCY: '32',
  });

  @Module({
    imports: [
      ConfigModule.forRoot(config),
      DatabaseModule.forRoot({ url: url.toString(), poolSize: config.database.poolSize }),
      EventsModule,
      WebhookDeliveryModule,
    ],
  })
  class WebhookBenchModule {}

  const app = await NestFactory.createApplicationContext(WebhookBenchModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.init();
  try {
    const db = app.get(DataSource);
    const eventLog = app.get(EventLogRepository);
    const bus = app.get(EventBus);
    // ENDPOINTS users, each with one wallet and one endpoint: every event is one message.
    const addresses: string[] = [];
    for (let u = 0; u < ENDPOINTS; u++) {
      const [user] = await db.query<{ id: string }[]>(
        `INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`,
        [`bench${u}@example.com`],
      );
      const address = `0x${randomBytes(20).toString('hex')}`;
      addresses.push(address);
      await db.query(`INSERT INTO wallets (user_id, address) VALUES ($1, $2)`, [user.id, address]);
      await db.query(`INSERT INTO webhook_endpoints (user_id, url, secret) VALUES ($1, $2, $3)`, [
        user.id,
        receiver.url,
        generateSecret(),
      ]);
    }
    const succeeded = async (): Promise<number> => {
      const [row] = await db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_messages WHERE status = 'succeeded'`,
      );
      return row.n;
    };
    const commit = async (events: NewEvent[]) => {
      const logged = await db.transaction((manager) => eventLog.append(manager, events));
      bus.publish(logged);
      return logged;
    };

    // (a) throughput
    ctx.log(`throughput: ${backlog} events`);
    const started = performance.now();
    for (let i = 0; i < backlog; i += COMMIT_BATCH) {
      await commit(
        Array.from({ length: Math.min(COMMIT_BATCH, backlog - i) }, (_, k) =>
          depositEvent(addresses[(i + k) % ENDPOINTS], i + k),
        ),
      );
    }
    while ((await succeeded()) < backlog) await delay(20);
    const seconds = (performance.now() - started) / 1000;
    const rate = backlog / seconds;

    // (b) latency, one event per commit
    ctx.log(`latency: ${paced} events, one per commit every 20 ms`);
    const committedAt = new Map<number, number>();
    for (let i = 0; i < paced; i++) {
      const [logged] = await commit([depositEvent(addresses[i % ENDPOINTS], backlog + i)]);
      committedAt.set(logged.id, Date.now());
      await delay(20);
    }
    while ((await succeeded()) < backlog + paced) await delay(20);
    const firsts = await db.query<{ event_id: string; first: Date }[]>(
      `SELECT m.event_id::text AS event_id, min(a.attempted_at) AS first
         FROM webhook_messages m JOIN webhook_attempts a ON a.message_seq = m.seq
        WHERE m.event_id = ANY($1::bigint[]) GROUP BY m.event_id`,
      [[...committedAt.keys()]],
    );
    const delays = firsts
      .map((f) => f.first.getTime() - committedAt.get(Number(f.event_id))!)
      .sort((a, b) => a - b);
    const [{ failed }] = await db.query<{ failed: number }[]>(
      `SELECT count(*)::int AS failed FROM webhook_attempts WHERE error IS NOT NULL`,
    );
    const rows: BenchRow[] = [
      {
        metric: `(a) deliveries/s, one process, backlog of ${backlog} events (${ENDPOINTS} endpoints)`,
        value: `${rate.toFixed(0)} deliveries/s`,
        target: `≥ ${TARGET_RATE.toLocaleString('en')} deliveries/s`,
        pass: rate >= TARGET_RATE,
      },
      {
        metric: `(b) commit → first attempt p50 (${delays.length} events, one per commit)`,
        value: `${percentile(delays, 50).toFixed(0)} ms`,
      },
      {
        metric: '(b) commit → first attempt p99',
        value: `${percentile(delays, 99).toFixed(0)} ms`,
        target: `≤ ${TARGET_P99_MS} ms`,
        pass: percentile(delays, 99) <= TARGET_P99_MS,
      },
      { metric: 'failed attempts', value: String(failed), target: '0', pass: failed === 0 },
    ];
    return {
      title: 'Webhooks: delivery per process',
      rows,
      notes: [
        `The delivering process runs ConfigModule, DatabaseModule, EventsModule and WebhookDeliveryModule (the worker every process runs); the receiver (204 to every POST, keep-alive) is a child process (dist/bench/webhook-receiver.js). WEBHOOK_ENDPOINT_CONCURRENCY=32, DB_POOL_SIZE=${config.database.poolSize}.`,
        `(a) events committed in ${COMMIT_BATCH}-event transactions through EventLogRepository.append (as a block's), each published on the EventBus after commit; measured from the first commit to the last message recorded succeeded (every attempt signed, sent, recorded). (b) attempt start times are millisecond timestamps (webhook_attempts.attempted_at).`,
        'Times are wall-clock on a machine shared with other work: compare with the CPU reference figure.',
      ],
    };
  } finally {
    await app.close();
    receiver.child.stdin!.end();
    await withAdmin(ctx.databaseServerUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
};
