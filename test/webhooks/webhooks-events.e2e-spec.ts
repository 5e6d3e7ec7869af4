import { randomBytes } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

import { checksumAddress, type Hex } from '../../src/common/evm.js';
import { type Anvil, receiptOf, sendEth, startAnvil } from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { BinanceStreamServer } from '../helpers/binance-stream-server.js';
import { waitFor } from '../helpers/process.js';
import {
  type ReceivedWebhook,
  startWebhookReceiver,
  type WebhookReceiver,
} from '../helpers/webhook-receiver.js';

type User = Awaited<ReturnType<typeof signUp>>;
interface Payload {
  type: string;
  timestamp: string;
  data: { event_id: number; tx_hash?: string; confirmations?: number; status?: string } & Record<
    string,
    unknown
  >;
}

/**
 * Webhooks from the real event stream: a role-`all` process following a real anvil (deposits) and a
 * local exchange stream (price alerts), delivering to real local receivers.
 */
describe('Webhooks of deposit and alert events', () => {
  let anvil: Anvil;
  let exchange: BinanceStreamServer;
  let app: TestApp;
  let user: User;
  const receivers: WebhookReceiver[] = [];

  const receiver = async (respond?: WebhookReceiver['respond']) => {
    const r = await startWebhookReceiver(respond);
    receivers.push(r);
    return r;
  };
  const createEndpoint = async (url: string, extra: object = {}, owner: User = user) =>
    (
      await app
        .http()
        .post('/webhooks')
        .set(owner.auth)
        .send({ url, ...extra })
        .expect(201)
    ).body as {
      id: string;
      secret: string;
    };
  const newWallet = async (): Promise<{ id: string; address: Hex }> => {
    const address: Hex = `0x${randomBytes(20).toString('hex')}`;
    const start_block = (await anvil.blockNumber()).toString();
    const res = await app.http().post('/wallets').set(user.auth).send({ address, start_block }).expect(201);
    return { id: res.body.id, address };
  };
  const verified = (secret: string, r: ReceivedWebhook): Payload =>
    new Webhook(secret).verify(r.body, r.headers) as Payload;
  /** Sends ETH and mines one block at a time until the deposit completes (3 confirmations). */
  const deposit = async (to: Hex, valueWei: bigint): Promise<Hex> => {
    const tx = await sendEth(anvil, { to, valueWei });
    for (let i = 0; i < 3; i++) {
      const head = await anvil.mine(1);
      await waitFor(
        async () => {
          const [row] = await app.dataSource.query<{ n: string }[]>(
            `SELECT block_number::text AS n FROM chain_cursors`,
          );
          return row && BigInt(row.n) >= head ? true : undefined;
        },
        30_000,
        `block ${head}`,
      );
    }
    await receiptOf(anvil, tx);
    return tx;
  };

  beforeAll(async () => {
    anvil = await startAnvil();
    exchange = await BinanceStreamServer.start();
    app = await startTestApp({
      APP_ROLE: 'all',
      DEVNET_RPC_URL: anvil.wsUrl,
      MONITOR_POLL_INTERVAL_MS: '250',
      ALERTS_ENABLED: 'true',
      BINANCE_WS_URL: exchange.url,
      ALERT_SYMBOLS: 'BTCUSDT,ETHUSDT',
      ALERT_COALESCE_MS: '50',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms',
      WEBHOOK_POLL_INTERVAL_MS: '100',
    });
    user = await signUp(app);
    await exchange.waitForConnections(1);
  }, 60_000);

  afterAll(async () => {
    for (const r of receivers) await r.close();
    await app?.close();
    await exchange?.close();
    await anvil?.stop();
  });

  it('delivers a deposit’s life as signed messages, filtered per endpoint, and replays it on request', async () => {
    const wallet = await newWallet();
    const other = await newWallet();
    const all = await receiver();
    const completedOnly = await receiver();
    const otherWallet = await receiver();
    const allEndpoint = await createEndpoint(all.url);
    const completedEndpoint = await createEndpoint(completedOnly.url, { event_types: ['deposit_completed'] });
    await createEndpoint(otherWallet.url, { wallet_ids: [other.id] });

    const tx = await deposit(wallet.address, 1_500_000_000_000_000_000n);
    await waitFor(() => (all.received.length >= 3 ? true : undefined), 20_000, 'three messages');
    const payloads = all.received.map((r) => verified(allEndpoint.secret, r));
    expect(payloads.map((p) => [p.type, p.data.confirmations, p.data.status])).toEqual([
      ['deposit_detected', 1, 'pending'],
      ['confirmation_update', 2, 'pending'],
      ['deposit_completed', 3, 'completed'],
    ]);
    const logged = await app.dataSource.query<{ id: string; type: string }[]>(
      `SELECT id::text, type FROM event_log WHERE room = $1 ORDER BY id`,
      [wallet.address],
    );
    expect(payloads.map((p) => p.data.event_id)).toEqual(logged.map((e) => Number(e.id)));
    for (const p of payloads) {
      expect(p.data).toMatchObject({
        tx_hash: tx,
        amount: '1.5',
        wallet_address: checksumAddress(wallet.address),
        network: 'devnet',
      });
      expect(Date.parse(p.timestamp)).not.toBeNaN();
    }
    await waitFor(() => (completedOnly.received.length >= 1 ? true : undefined), 10_000, 'completion');
    expect(completedOnly.received.map((r) => verified(completedEndpoint.secret, r).type)).toEqual([
      'deposit_completed',
    ]);
    expect(otherWallet.received).toHaveLength(0);

    // Replay from before the first event: the same three messages again, same webhook-ids.
    const ids = all.received.map((r) => r.headers['webhook-id']);
    const replayAll = () =>
      app
        .http()
        .post(`/webhooks/${allEndpoint.id}/replay`)
        .set(user.auth)
        .send({ since_event_id: payloads[0].data.event_id - 1 })
        .expect(202);
    /** The webhook-ids of the three messages received after the first `from`. */
    const idsAfter = async (from: number, what: string) => {
      await waitFor(() => (all.received.length >= from + 3 ? true : undefined), 10_000, what);
      return all.received
        .slice(from)
        .map((r) => r.headers['webhook-id'])
        .sort();
    };
    const replay = await replayAll();
    expect(replay.body).toEqual({ queued: 3, continue_after_event_id: null, truncated: false });
    expect(await idsAfter(3, 'the replay')).toEqual([...ids].sort());

    // After the retention deleted them (WEBHOOK_RETENTION_DAYS), a replay creates the messages
    // again, and they still carry the same webhook-ids: derived from (endpoint, event).
    await app.dataSource.query(`DELETE FROM webhook_messages WHERE endpoint_id = $1`, [allEndpoint.id]);
    await replayAll();
    expect(await idsAfter(6, 'the replay after retention')).toEqual([...ids].sort());
  });

  it('delivers to a receiver that fails three times later, with the same webhook-id', async () => {
    const wallet = await newWallet();
    const failures = new Map<string, number>();
    const r = await receiver((req) => {
      const id = req.headers['webhook-id'];
      const n = failures.get(id) ?? 0;
      failures.set(id, n + 1);
      return n < 3 ? { status: 503 } : { status: 200 };
    });
    const endpoint = await createEndpoint(r.url, { wallet_ids: [wallet.id] });
    await deposit(wallet.address, 10n ** 18n);
    const messages = await waitFor(
      async () => {
        const res = await app.http().get(`/webhooks/${endpoint.id}/deliveries`).set(user.auth).expect(200);
        const items = res.body.items as {
          status: string;
          attempts: { status_code: number }[];
          message_id: string;
        }[];
        return items.length === 3 && items.every((m) => m.status === 'succeeded') ? items : undefined;
      },
      20_000,
      'three delivered messages',
    );
    for (const m of messages) {
      expect(m.attempts.map((a) => a.status_code)).toEqual([503, 503, 503, 200]);
      const sent = r.received.filter((x) => x.headers['webhook-id'] === m.message_id);
      expect(sent).toHaveLength(4);
      for (const x of sent) expect(() => verified(endpoint.secret, x)).not.toThrow();
    }
  });

  it('sends price_alert_triggered for an alert with the webhook channel and records its delivery', async () => {
    const trader = await signUp(app);
    const r = await receiver();
    const endpoint = await createEndpoint(r.url, { event_types: ['price_alert_triggered'] }, trader);
    const alert = await app
      .http()
      .post('/alerts')
      .set(trader.auth)
      .send({ symbol: 'BTCUSDT', condition: 'above', threshold: '100', channels: ['webhook'] })
      .expect(201);
    exchange.sendPrice('BTCUSDT', '150.5');
    const got = await waitFor(() => r.received[0], 10_000, 'the alert message');
    const payload = verified(endpoint.secret, got);
    expect(payload.type).toBe('price_alert_triggered');
    expect(payload.data).toMatchObject({
      user_id: trader.id,
      event_id: expect.any(Number),
      alerts: [expect.objectContaining({ alert_id: alert.body.id, symbol: 'BTCUSDT', price: '150.5' })],
    });
    const delivery = await waitFor(
      async () => {
        const res = await app.http().get(`/alerts/${alert.body.id}/history`).set(trader.auth).expect(200);
        const d = res.body.items[0]?.deliveries?.[0];
        return d?.status === 'sent' ? d : undefined;
      },
      10_000,
      'the webhook delivery to be sent',
    );
    expect(delivery).toMatchObject({ channel: 'webhook', status: 'sent', attempts: 1 });
    expect(payload.data.delivery_id).toBe(delivery.id);
  });

  it('records a webhook alert delivery as failed when no endpoint takes it', async () => {
    const lonely = await signUp(app);
    const alert = await app
      .http()
      .post('/alerts')
      .set(lonely.auth)
      .send({ symbol: 'ETHUSDT', condition: 'above', threshold: '100', channels: ['webhook'] })
      .expect(201);
    exchange.sendPrice('ETHUSDT', '200');
    const delivery = await waitFor(
      async () => {
        const res = await app.http().get(`/alerts/${alert.body.id}/history`).set(lonely.auth).expect(200);
        const d = res.body.items[0]?.deliveries?.[0];
        return d?.status === 'failed' ? d : undefined;
      },
      10_000,
      'the failed delivery',
    );
    expect(delivery).toMatchObject({
      channel: 'webhook',
      last_error: 'no enabled webhook endpoint takes price_alert_triggered',
    });
  });
});
