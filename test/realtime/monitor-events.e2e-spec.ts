import { randomBytes } from 'node:crypto';

import { checksumAddress, type Hex } from '../../src/common/evm.js';
import type { DepositEventData } from '../../src/events/domain-events.js';
import { type Anvil, ANVIL_ACCOUNTS, receiptOf, sendEth, startAnvil } from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';
import { connectClient, type TestClient } from './realtime-client.js';

/** One `all` process (API + gateway + monitor) on a real anvil: the monitor's events, live. */
describe('Deposit events from the monitor (role all)', () => {
  let anvil: Anvil;
  let app: TestApp;
  let user: Awaited<ReturnType<typeof signUp>>;
  const clients: TestClient[] = [];

  const subscribedWallet = async (): Promise<{ address: Hex; client: TestClient }> => {
    const address: Hex = `0x${randomBytes(20).toString('hex')}`;
    const start_block = (await anvil.blockNumber()).toString();
    await app.http().post('/wallets').set(user.auth).send({ address, start_block }).expect(201);
    const client = await connectClient(app.baseUrl, {
      token: user.token,
      query: { wallet_address: address },
    });
    clients.push(client);
    return { address, client };
  };
  const deposits = (client: TestClient) =>
    client.received.map((r) => ({
      name: r.name,
      id: r.payload.event_id,
      data: r.payload.data as DepositEventData,
    }));

  beforeAll(async () => {
    anvil = await startAnvil();
    app = await startTestApp({
      APP_ROLE: 'all',
      DEVNET_RPC_URL: anvil.wsUrl,
      MONITOR_POLL_INTERVAL_MS: '250',
    });
    user = await signUp(app);
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) client.close();
    await app?.close();
    await anvil?.stop();
  });

  it('streams detection → confirmations → completion, in order, with the chain’s values', async () => {
    const { address, client } = await subscribedWallet();
    const tx = await sendEth(anvil, { to: address, valueWei: 1_250_000_000_000_000_000n });
    await anvil.mine(1);
    const receipt = await receiptOf(anvil, tx);
    await waitFor(() => (client.received.length > 0 ? true : undefined), 30_000, 'detection');
    // One block at a time, so each confirmation is its own head.
    for (let i = 0; i < 2; i++) {
      const seen = client.received.length;
      await anvil.mine(1);
      await waitFor(
        () => (client.received.length > seen ? true : undefined),
        30_000,
        `confirmation ${i + 2}`,
      );
    }
    await waitFor(
      () => (client.received.some((r) => r.name === 'deposit_completed') ? true : undefined),
      30_000,
      'completion',
    );
    const events = deposits(client);
    expect(events.map((e) => [e.name, e.data.confirmations, e.data.status])).toEqual([
      ['deposit_detected', 1, 'pending'],
      ['confirmation_update', 2, 'pending'],
      ['deposit_completed', 3, 'completed'],
    ]);
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
    for (const { data } of events) {
      expect(data).toMatchObject({
        network: 'devnet',
        tx_hash: tx,
        log_index: -1,
        block_number: BigInt(receipt.blockNumber).toString(),
        wallet_address: checksumAddress(address),
        from_address: checksumAddress(ANVIL_ACCOUNTS[0].address),
        asset: { type: 'native', symbol: 'ETH', contract: null, decimals: 18 },
        amount: '1.25',
        amount_base_units: '1250000000000000000',
        required_confirmations: 3,
      });
    }
  });

  it('streams the orphaning of a deposit whose block a reorg replaced', async () => {
    const { address, client } = await subscribedWallet();
    const tx = await sendEth(anvil, { to: address, valueWei: 10n ** 18n });
    await anvil.mine(1);
    await waitFor(() => (client.received.length > 0 ? true : undefined), 30_000, 'detection');
    await anvil.reorg(1);
    await anvil.mine(1);
    await waitFor(
      () => (client.received.some((r) => r.name === 'deposit_orphaned') ? true : undefined),
      30_000,
      'the orphaning',
    );
    const events = deposits(client);
    expect(events[0]).toMatchObject({ name: 'deposit_detected', data: { tx_hash: tx, status: 'pending' } });
    const orphaned = events.find((e) => e.name === 'deposit_orphaned')!;
    expect(orphaned.data).toMatchObject({ tx_hash: tx, status: 'orphaned', amount: '1' });
    expect(orphaned.id).toBeGreaterThan(events[0].id);
  });
});
