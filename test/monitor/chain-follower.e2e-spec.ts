import type { Hex } from '../../src/common/evm.js';
import { ChainFollower } from '../../src/monitor/chain-follower.js';
import { WatchSet } from '../../src/monitor/watch-set.js';
import {
  type Anvil,
  ANVIL_ACCOUNTS,
  deployTestToken,
  revertedTransfer,
  sendEth,
  sendToken,
  startAnvil,
} from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';
import { depositsOf, eventsOf, randomAddress, rawTransaction, sendRaw, synced } from './monitor-helpers.js';

const ETH = 10n ** 18n;

describe(ChainFollower.name, () => {
  let anvil: Anvil;
  let app: TestApp;
  let auth: { Authorization: string };

  const watch = async (address: Hex, startBlock?: bigint) => {
    await app
      .http()
      .post('/wallets')
      .set(auth)
      .send({ address, ...(startBlock !== undefined && { start_block: startBlock.toString() }) })
      .expect(201);
    return address;
  };

  /** A test token deployed on anvil and listed for devnet (the monitor re-reads tokens each block). */
  const listedToken = async (symbol: string, decimals: number): Promise<Hex> => {
    const token = await deployTestToken(anvil, { symbol, decimals });
    await app.dataSource.query(
      `INSERT INTO tokens (network_id, contract_address, symbol, decimals)
       SELECT id, $1, $2, $3 FROM blockchain_networks WHERE key = 'devnet'`,
      [token, symbol, decimals],
    );
    return token;
  };

  const statusOf = async (address: Hex, tx: Hex) =>
    (await depositsOf(app.dataSource, address)).find((d) => d.tx_hash === tx);

  beforeAll(async () => {
    anvil = await startAnvil();
    app = await startTestApp({ APP_ROLE: 'all', DEVNET_ENABLED: 'false', DEVNET_RPC_URL: anvil.wsUrl });
    ({ auth } = await signUp(app));
    await anvil.mine(2);
    await synced(app.dataSource, anvil);
  });

  afterAll(async () => {
    await app?.close();
    await anvil?.stop();
  });

  it('detects an ETH deposit to a wallet added at run time, and ignores a reverted transfer', async () => {
    const wallet = await watch(randomAddress());
    const tx = await sendEth(anvil, { to: wallet, valueWei: (3n * ETH) / 2n });
    const block = await anvil.mine();
    await synced(app.dataSource, anvil);
    await revertedTransfer(anvil, { to: wallet, valueWei: ETH });
    await synced(app.dataSource, anvil);

    expect(await depositsOf(app.dataSource, wallet)).toEqual([
      expect.objectContaining({
        tx_hash: tx,
        log_index: -1,
        block_number: block.toString(),
        status: 'pending',
        confirmations: 2, // the reverted transfer's block is the second
        amount: '1500000000000000000',
        asset_type: 'native',
        asset_symbol: 'ETH',
        asset_decimals: 18,
      }),
    ]);
    const [detected] = await eventsOf(app.dataSource, wallet);
    expect(detected).toMatchObject({
      type: 'deposit.detected',
      data: { tx_hash: tx, amount: '1.5', status: 'pending' },
    });
  });

  it('detects an ERC-20 deposit of a listed token with its decimals', async () => {
    const token = await listedToken('USDT', 6);
    const wallet = await watch(randomAddress());
    const tx = await sendToken(anvil, { token, to: wallet, amount: 1_234_567n });
    await anvil.mine();
    await synced(app.dataSource, anvil);

    const [deposit] = await depositsOf(app.dataSource, wallet);
    expect(deposit).toMatchObject({
      tx_hash: tx,
      asset_type: 'erc20',
      asset_symbol: 'USDT',
      asset_decimals: 6,
      amount: '1234567',
    });
    expect(deposit.log_index).toBeGreaterThanOrEqual(0);
    const [event] = await eventsOf(app.dataSource, wallet);
    expect(event?.data.amount).toBe('1.234567');
  });

  it('counts confirmations and completes exactly at the required count (3 on devnet)', async () => {
    const wallet = await watch(randomAddress());
    const tx = await sendEth(anvil, { to: wallet, valueWei: ETH });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect(await statusOf(wallet, tx)).toMatchObject({ confirmations: 1, status: 'pending' });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect(await statusOf(wallet, tx)).toMatchObject({ confirmations: 2, status: 'pending' });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect(await statusOf(wallet, tx)).toMatchObject({ confirmations: 3, status: 'completed' });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect(await statusOf(wallet, tx)).toMatchObject({ confirmations: 3, status: 'completed' });

    const events = await eventsOf(app.dataSource, wallet);
    expect(events.map((e) => [e.type, e.data.confirmations, e.data.status])).toEqual([
      ['deposit.detected', 1, 'pending'],
      ['deposit.confirmation', 2, 'pending'],
      ['deposit.completed', 3, 'completed'],
    ]);
  });

  it('orphans the deposit of a block replaced by a depth-1 reorg, and revives it when re-mined', async () => {
    const wallet = await watch(randomAddress());
    const tx = await sendEth(anvil, { to: wallet, valueWei: ETH });
    const block = await anvil.mine();
    await synced(app.dataSource, anvil);
    const raw = await rawTransaction(anvil, tx);
    const before = await statusOf(wallet, tx);

    await anvil.reorg(1);
    await waitFor(async () => ((await statusOf(wallet, tx))?.status === 'orphaned' ? true : undefined));
    await synced(app.dataSource, anvil);

    await sendRaw(anvil, raw);
    const again = await anvil.mine();
    await synced(app.dataSource, anvil);
    const revived = await statusOf(wallet, tx);
    expect(revived).toMatchObject({ status: 'pending', block_number: again.toString(), confirmations: 1 });
    expect(again).toBe(block + 1n);
    expect(revived!.block_hash).not.toBe(before!.block_hash);
    expect((await eventsOf(app.dataSource, wallet)).map((e) => e.type)).toEqual([
      'deposit.detected',
      'deposit.orphaned',
      'deposit.detected',
    ]);
  });

  it('revives the same ERC-20 deposit when its transaction is re-mined at another log index', async () => {
    const token = await listedToken('DAI', 18);
    const filler = ANVIL_ACCOUNTS[1].address;
    await sendToken(anvil, { token, to: filler, amount: 10n ** 20n });
    await anvil.mine();
    const wallet = await watch(randomAddress());
    // The first transfer of the block is someone else's: the deposit's log is the block's second.
    await sendToken(anvil, { token, from: 1, to: randomAddress(), amount: 1n });
    const tx = await sendToken(anvil, { token, to: wallet, amount: 5n * 10n ** 18n });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    const [before] = await depositsOf(app.dataSource, wallet);
    expect(before).toMatchObject({ tx_hash: tx, log_index: 1, status: 'pending' });
    const raw = await rawTransaction(anvil, tx);

    await anvil.reorg(1);
    await waitFor(async () => ((await statusOf(wallet, tx))?.status === 'orphaned' ? true : undefined));
    await synced(app.dataSource, anvil);
    await sendRaw(anvil, raw); // alone in its new block: log index 0
    const again = await anvil.mine();
    await synced(app.dataSource, anvil);

    const rows = await depositsOf(app.dataSource, wallet);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tx_hash: tx,
      log_index: 0,
      status: 'pending',
      block_number: again.toString(),
      amount: (5n * 10n ** 18n).toString(),
    });
    const events = await eventsOf(app.dataSource, wallet);
    expect(events.map((e) => [e.type, e.data.deposit_id, e.data.log_index])).toEqual([
      ['deposit.detected', before.id, 1],
      ['deposit.orphaned', before.id, 1],
      ['deposit.detected', before.id, 0],
    ]);
  });

  it('on a depth-3 reorg orphans exactly the deposits of the dropped blocks', async () => {
    const wallet = await watch(randomAddress());
    const kept = await sendEth(anvil, { to: wallet, valueWei: 1n });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    const dropped: Hex[] = [];
    for (let i = 0; i < 3; i++) {
      // Separate senders: re-sending one of them alone must not wait for another's nonce.
      dropped.push(await sendEth(anvil, { from: 1 + i, to: wallet, valueWei: 10n + BigInt(i) }));
      await anvil.mine();
      // Settle at each head, so the first deposit completes at exactly the threshold (3) and keeps
      // that count; one batch over all four blocks could detect it already at 4.
      await synced(app.dataSource, anvil);
    }
    expect((await depositsOf(app.dataSource, wallet)).map((d) => [d.confirmations, d.status])).toEqual([
      [3, 'completed'],
      [3, 'completed'],
      [2, 'pending'],
      [1, 'pending'],
    ]);
    const raw = await rawTransaction(anvil, dropped[1]);

    await anvil.reorg(3);
    await waitFor(async () => {
      const rows = await depositsOf(app.dataSource, wallet);
      return rows.filter((d) => d.status === 'orphaned').length === 3 ? rows : undefined;
    });
    await synced(app.dataSource, anvil);
    expect(await statusOf(wallet, kept)).toMatchObject({ status: 'completed' });

    await sendRaw(anvil, raw);
    await anvil.mine();
    await synced(app.dataSource, anvil);
    const byTx = new Map((await depositsOf(app.dataSource, wallet)).map((d) => [d.tx_hash, d.status]));
    expect(byTx).toEqual(
      new Map([
        [kept, 'completed'],
        [dropped[0], 'orphaned'],
        [dropped[1], 'pending'],
        [dropped[2], 'orphaned'],
      ]),
    );
  });

  it('orphans an already completed deposit when a reorg deeper than the confirmation count drops it', async () => {
    const wallet = await watch(randomAddress());
    const tx = await sendEth(anvil, { to: wallet, valueWei: 5n * ETH });
    // One block at a time, so the follower settles at each head: the deposit completes at exactly
    // the threshold (3 on devnet) and keeps the count it completed with (only pending rows are
    // counted); mining 4 at once could let one batch settle it at 5.
    for (let i = 0; i < 5; i++) {
      await anvil.mine();
      await synced(app.dataSource, anvil);
    }
    expect(await statusOf(wallet, tx)).toMatchObject({ status: 'completed', confirmations: 3 });
    const raw = await rawTransaction(anvil, tx);

    await anvil.reorg(6);
    await waitFor(async () => ((await statusOf(wallet, tx))?.status === 'orphaned' ? true : undefined));
    await synced(app.dataSource, anvil);

    await sendRaw(anvil, raw);
    await anvil.mine(3);
    await synced(app.dataSource, anvil);
    expect(await statusOf(wallet, tx)).toMatchObject({ status: 'completed', confirmations: 3 });
    // (How many deposit.confirmation events come between depends on how the heads were batched.)
    const events = await eventsOf(app.dataSource, wallet);
    expect(events.filter((e) => e.type !== 'deposit.confirmation').map((e) => e.type)).toEqual([
      'deposit.detected',
      'deposit.completed',
      'deposit.orphaned',
      'deposit.detected',
      'deposit.completed',
    ]);
  });

  it('backfills the history of a wallet added with a start_block, once', async () => {
    const address = randomAddress();
    await anvil.mine();
    const first = await sendEth(anvil, { to: address, valueWei: 7n });
    const startBlock = await anvil.mine();
    await anvil.mine(3);
    const second = await sendEth(anvil, { to: address, valueWei: 8n });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect(await depositsOf(app.dataSource, address)).toEqual([]);

    await watch(address, startBlock);
    const rows = await waitFor(async () => {
      const found = await depositsOf(app.dataSource, address);
      return found.length === 2 ? found : undefined;
    });
    expect(rows.map((d) => [d.tx_hash, d.amount])).toEqual([
      [first, '7'],
      [second, '8'],
    ]);
    // A later deposit is followed live, and the backfill does not run twice.
    const third = await sendEth(anvil, { to: address, valueWei: 9n });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect((await depositsOf(app.dataSource, address)).map((d) => d.tx_hash)).toEqual([first, second, third]);
    const events = await eventsOf(app.dataSource, address);
    expect(events.filter((e) => e.type === 'deposit.detected')).toHaveLength(3);
    // `first` was 5 blocks deep when backfilled: written completed at once, announced detected →
    // completed; `second` (the tip then) was written pending with 1 confirmation.
    const of = (tx: Hex) =>
      events.filter((e) => e.data.tx_hash === tx).map((e) => [e.type, e.data.status, e.data.confirmations]);
    expect(of(first)).toEqual([
      ['deposit.detected', 'completed', 5],
      ['deposit.completed', 'completed', 5],
    ]);
    expect(of(second)[0]).toEqual(['deposit.detected', 'pending', 1]);
  });

  it('stops watching a deleted wallet', async () => {
    const address = randomAddress();
    const created = await app.http().post('/wallets').set(auth).send({ address }).expect(201);
    const watched = app.app.get(WatchSet);
    await waitFor(() => (watched.has(address) ? true : undefined));
    await app.http().delete(`/wallets/${created.body.id}`).set(auth).expect(204);
    await waitFor(
      () => (watched.has(address) ? undefined : true),
      10_000,
      'the address to leave the watch set',
    );
    await sendEth(anvil, { to: address, valueWei: 1n });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect(await depositsOf(app.dataSource, address)).toEqual([]);
  });
});
