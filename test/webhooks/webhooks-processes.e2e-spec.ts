import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import type { DepositEventData, NewEvent } from '../../src/events/domain-events.js';
import { EventBus } from '../../src/events/event-bus.js';
import { EventLogRepository } from '../../src/events/event-log.repository.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/process.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js';

const EVENTS_PER_PROCESS = 200;

/**
 * Two processes on one database, each committing events (as a monitor does: the event log, then the
 * EventBus): both fan out and deliver, and every message is attempted exactly once.
 */
describe('Webhook delivery by several processes', () => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_POLL_INTERVAL_MS: '100' };
    apps.push(await startTestApp(env, database));
    apps.push(await startTestApp(env, database));
    receiver = await startWebhookReceiver(() => ({ status: 200, delayMs: 2 }));
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
    for (const app of apps) await app.close();
    await database?.drop();
  });

  const depositEvent = (address: string, n: number): NewEvent => {
    const data: DepositEventData = {
      deposit_id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
      network: 'devnet',
      chain_id: '31337',
      tx_hash: `0x${n.toString(16).padStart(64, '0')}`,
      log_index: -1,
      transfer_type: 'native',
      trace_address: null,
      block_number: '100',
      block_hash: `0x${'ab'.repeat(32)}`,
      from_address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      wallet_address: address,
      asset: { type: 'native', symbol: 'ETH', contract: null, decimals: 18 },
      amount: '1',
      amount_base_units: '1000000000000000000',
      confirmations: 1,
      required_confirmations: 3,
      status: 'pending',
    };
    return { type: 'deposit.detected', room: address, data };
  };

  it('attempts each message once', async () => {
    const [first] = apps;
    const user = await signUp(first);
    const address = `0x${randomBytes(20).toString('hex')}`;
    await first.http().post('/wallets').set(user.auth).send({ address }).expect(201);
    const endpoint = await first
      .http()
      .post('/webhooks')
      .set(user.auth)
      .send({ url: receiver.url })
      .expect(201);

    // Both processes commit events, in small transactions, interleaved.
    await Promise.all(
      apps.map(async (app, p) => {
        const eventLog = app.app.get(EventLogRepository);
        const bus = app.app.get(EventBus);
        for (let i = 0; i < EVENTS_PER_PROCESS; i += 10) {
          const events = Array.from({ length: 10 }, (_, k) => depositEvent(address, p * 10_000 + i + k));
          const logged = await app.dataSource.transaction((manager) => eventLog.append(manager, events));
          bus.publish(logged);
        }
      }),
    );
    const total = EVENTS_PER_PROCESS * apps.length;
    await waitFor(() => (receiver.received.length >= total ? true : undefined), 60_000, `${total} messages`);
    // Whatever was still in flight has landed too.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(total);
    expect(ids).toHaveLength(total);
    const eventIds = receiver.received.map(
      (r) =>
        (
          new Webhook(endpoint.body.secret as string).verify(r.body, r.headers) as {
            data: { event_id: number };
          }
        ).data.event_id,
    );
    expect(new Set(eventIds).size).toBe(total);
    const [row] = await first.dataSource.query<{ attempts: number; messages: number }[]>(
      `SELECT (SELECT count(*) FROM webhook_attempts)::int AS attempts,
              (SELECT count(*) FROM webhook_messages WHERE status = 'succeeded')::int AS messages`,
    );
    expect(row).toEqual({ attempts: total, messages: total });
  });
});
