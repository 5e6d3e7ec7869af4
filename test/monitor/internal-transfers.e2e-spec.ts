import type { Hex } from '../../src/common/evm.js';
import { JsonRpcChainClient } from '../../src/chain/json-rpc-chain-client.js';
import { ChainFollower } from '../../src/monitor/chain-follower.js';
import {
  type Anvil,
  deployForwarder,
  deployReverter,
  forwarderCall,
  sendEth,
  sendThroughForwarder,
  startAnvil,
} from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';
import { depositsOf, eventsOf, randomAddress, rawTransaction, sendRaw, synced } from './monitor-helpers.js';

/** ETH sent to watched wallets by contract calls inside transactions (internal transfers). */
describe(`${ChainFollower.name}: internal transfers`, () => {
  let anvil: Anvil;
  let app: TestApp;
  let auth: { Authorization: string };
  let forwarder: Hex;
  let inner: Hex;

  const watch = async (address: Hex, startBlock?: bigint) => {
    const res = await app
      .http()
      .post('/wallets')
      .set(auth)
      .send({ address, ...(startBlock !== undefined && { start_block: startBlock.toString() }) })
      .expect(201);
    return { address, id: res.body.id as string };
  };

  beforeAll(async () => {
    anvil = await startAnvil();
    forwarder = await deployForwarder(anvil);
    inner = await deployForwarder(anvil);
    app = await startTestApp({ APP_ROLE: 'all', DEVNET_ENABLED: 'false', DEVNET_RPC_URL: anvil.wsUrl });
    ({ auth } = await signUp(app));
    await anvil.mine(2);
    await synced(app.dataSource, anvil);
  });

  afterAll(async () => {
    await app?.close();
    await anvil?.stop();
  });

  it('records each value-carrying call to a watched address as a deposit, at any depth, from the contract that sent it', async () => {
    const { address: wallet, id } = await watch(randomAddress());
    const other = randomAddress();
    // split: calls [0] and [1] both pay the wallet (two deposits of one transaction); relay: the
    // forwarder calls `inner`, which pays the wallet at [0, 1].
    const split = await sendThroughForwarder(anvil, {
      forwarder,
      valueWei: 30n,
      data: forwarderCall('split', [wallet, wallet, other], [10n, 15n, 5n]),
    });
    const relay = await sendThroughForwarder(anvil, {
      from: 1,
      forwarder,
      valueWei: 12n,
      data: forwarderCall('relay', inner, [other, wallet], [5n, 7n]),
    });
    const block = await anvil.mine();
    await synced(app.dataSource, anvil);

    const res = await app.http().get(`/deposits/wallet/${id}`).set(auth).expect(200);
    const items = (res.body.items as Record<string, unknown>[])
      .map((d) => ({
        tx_hash: d.tx_hash,
        transfer_type: d.transfer_type,
        trace_address: d.trace_address,
        log_index: d.log_index,
        from: (d.from_address as string).toLowerCase(),
        amount: d.amount_base_units,
        asset: (d.asset as { type: string }).type,
        block: d.block_number,
      }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const expected = [
      { tx_hash: split, trace_address: [0], from: forwarder, amount: '10' },
      { tx_hash: split, trace_address: [1], from: forwarder, amount: '15' },
      { tx_hash: relay, trace_address: [0, 1], from: inner, amount: '7' },
    ].map((d) => ({
      ...d,
      transfer_type: 'internal',
      log_index: -1,
      asset: 'native',
      block: block.toString(),
    }));
    expect(items).toEqual(expected.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
    const events = await eventsOf(app.dataSource, wallet);
    expect(events.filter((e) => e.type === 'deposit.detected')).toHaveLength(3);
    expect(events[0].data).toMatchObject({ transfer_type: 'internal' });
  });

  it('ignores a reverted inner call in a successful transaction, and a reverted transaction', async () => {
    const { address: wallet } = await watch(randomAddress());
    const reverter = await deployReverter(anvil);
    // The inner call pays the wallet, then reverts: the transaction succeeds, the ETH never moved.
    const swallowed = await sendThroughForwarder(anvil, {
      forwarder,
      valueWei: 9n,
      data: forwarderCall('sendThenSwallow', wallet),
      gas: 200_000n,
    });
    // The wallet is paid at [0], then paying the reverter fails: the whole transaction reverts.
    const reverted = await sendThroughForwarder(anvil, {
      from: 1,
      forwarder,
      valueWei: 9n,
      data: forwarderCall('split', [wallet, reverter], [4n, 5n]),
      gas: 200_000n,
    });
    // A plain transfer in the same block, so the block is certainly scanned for the wallet.
    const plain = await sendEth(anvil, { from: 2, to: wallet, valueWei: 3n });
    await anvil.mine();
    await synced(app.dataSource, anvil);

    const statuses = await Promise.all(
      [swallowed, reverted].map(async (tx) =>
        anvil.rpc<{ status: Hex }>('eth_getTransactionReceipt', [tx]).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(['0x1', '0x0']);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => [d.tx_hash, d.amount])).toEqual([
      [plain, '3'],
    ]);
  });

  it('orphans internal deposits with their block on a reorg and revives the same rows when re-mined', async () => {
    const { address: wallet } = await watch(randomAddress());
    const tx = await sendThroughForwarder(anvil, {
      forwarder,
      valueWei: 3n,
      data: forwarderCall('split', [wallet, wallet], [1n, 2n]),
    });
    await anvil.mine();
    await synced(app.dataSource, anvil);
    const before = await depositsOf(app.dataSource, wallet);
    expect(before).toHaveLength(2);
    const raw = await rawTransaction(anvil, tx);

    await anvil.reorg(1);
    await waitFor(async () => {
      const rows = await depositsOf(app.dataSource, wallet);
      return rows.every((d) => d.status === 'orphaned') ? rows : undefined;
    });
    await synced(app.dataSource, anvil);
    await sendRaw(anvil, raw);
    const again = await anvil.mine();
    await synced(app.dataSource, anvil);

    const after = await depositsOf(app.dataSource, wallet);
    expect(after.map((d) => [d.id, d.status, d.block_number])).toEqual(
      before.map((d) => [d.id, 'pending', again.toString()]),
    );
    const events = await eventsOf(app.dataSource, wallet);
    expect(events.map((e) => e.type)).toEqual([
      'deposit.detected',
      'deposit.detected',
      'deposit.orphaned',
      'deposit.orphaned',
      'deposit.detected',
      'deposit.detected',
    ]);
  });

  it('finds internal deposits in the history of a wallet added with a start_block', async () => {
    const address = randomAddress();
    const tx = await sendThroughForwarder(anvil, {
      forwarder,
      valueWei: 8n,
      data: forwarderCall('relay', inner, [address], [8n]),
    });
    const startBlock = await anvil.mine();
    await anvil.mine(2);
    await synced(app.dataSource, anvil);

    await watch(address, startBlock);
    const [row] = await waitFor(async () => {
      const found = await depositsOf(app.dataSource, address);
      return found.length === 1 ? found : undefined;
    });
    expect(row).toMatchObject({
      tx_hash: tx,
      amount: '8',
      status: 'completed',
      block_number: startBlock.toString(),
    });
    const [stored] = await app.dataSource.query<{ trace_address: string; from_address: string }[]>(
      `SELECT trace_address, from_address FROM deposits WHERE id = $1`,
      [row.id],
    );
    expect(stored).toEqual({ trace_address: '0.0', from_address: inner });
  });

  it('says in GET /networks whether the node shows internal transfers', async () => {
    const res = await app.http().get('/networks/devnet').set(auth).expect(200);
    expect(res.body).toMatchObject({ key: 'devnet', internal_transfers: true });
  });
});

describe(`${JsonRpcChainClient.name}: internal transfers`, () => {
  let anvil: Anvil;
  const clients: JsonRpcChainClient[] = [];
  const client = (options: { useTraces?: boolean; debugTraces?: boolean }) => {
    const made = new JsonRpcChainClient({
      name: 'test',
      url: anvil.wsUrl,
      chainId: 31337n,
      pollIntervalMs: 200,
      stallTimeoutMs: 30_000,
      ...options,
    });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    anvil = await startAnvil();
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await anvil?.stop();
  });

  it('reads the same internal transfers from trace_block and, on geth-style nodes, from the callTracer', async () => {
    const forwarder = await deployForwarder(anvil);
    const inner = await deployForwarder(anvil);
    const [a, b] = [randomAddress(), randomAddress()];
    const relay = await sendThroughForwarder(anvil, {
      forwarder,
      valueWei: 6n,
      data: forwarderCall('relay', inner, [a, b], [2n, 4n]),
    });
    const swallowed = await sendThroughForwarder(anvil, {
      from: 1,
      forwarder,
      valueWei: 9n,
      data: forwarderCall('sendThenSwallow', a),
      gas: 200_000n,
    });
    const number = await anvil.mine();

    const parity = client({});
    const geth = client({ useTraces: false });
    const none = client({ useTraces: false, debugTraces: false });
    const fromTraces = await parity.blockWithTransactions(number);
    const fromCallTracer = await geth.blockWithTransactions(number);
    const expected = [
      { transactionHash: relay, traceAddress: [0], from: forwarder, to: inner, value: 6n },
      { transactionHash: relay, traceAddress: [0, 0], from: inner, to: a, value: 2n },
      { transactionHash: relay, traceAddress: [0, 1], from: inner, to: b, value: 4n },
      // Nothing of `swallowed`: its inner calls (forwarder to itself, then to a) reverted.
    ];
    expect(fromTraces?.internalTransfers).toEqual(expected);
    expect(fromCallTracer?.internalTransfers).toEqual(expected);
    expect([parity.internalTransfers, geth.internalTransfers]).toEqual([true, true]);
    // Statuses come from the same traces (no receipt read needed).
    expect(await geth.receiptStatuses(fromCallTracer!.hash, [relay, swallowed])).toEqual(
      new Map([
        [relay, true],
        [swallowed, true],
      ]),
    );

    const plain = await none.blockWithTransactions(number);
    expect(plain?.internalTransfers).toBeNull();
    expect(none.internalTransfers).toBe(false);
  });
});
