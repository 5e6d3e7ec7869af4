import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Hex } from '../../src/common/evm.js';
import type { BlockHead } from '../../src/chain/chain-client.js';
import { JsonRpcChainClient } from '../../src/chain/json-rpc-chain-client.js';
import { WsRpcConnection } from '../../src/chain/json-rpc-transport.js';
import { BlockMismatchError, ChainIdMismatchError } from '../../src/chain/rpc-chain-client.js';
import {
  ANVIL_ACCOUNTS,
  type Anvil,
  deployTestToken,
  revertedTransfer,
  sendEth,
  sendToken,
  startAnvil,
} from '../helpers/anvil.js';

const fresh = (): Hex => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString('hex')}`;

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe(JsonRpcChainClient.name, () => {
  let anvil: Anvil;
  const clients: JsonRpcChainClient[] = [];
  const client = (url: string, extra: Partial<ConstructorParameters<typeof JsonRpcChainClient>[0]> = {}) => {
    const made = new JsonRpcChainClient({
      name: 'test',
      chainId: 31337n,
      url,
      pollIntervalMs: 100,
      stallTimeoutMs: 30_000,
      initialBackoffMs: 50,
      maxBackoffMs: 500,
      ...extra,
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

  it.each(['ws', 'http'] as const)('delivers heads in order from a real node over %s', async (kind) => {
    const chain = client(kind === 'ws' ? anvil.wsUrl : anvil.httpUrl);
    await chain.assertChainId();
    const heads: BlockHead[] = [];
    let reconnects = 0;
    const unsubscribe = chain.subscribeHeads({
      onHead: (h) => heads.push(h),
      onReconnect: () => (reconnects += 1),
    });
    await until('the stream to connect', () => reconnects === 1);
    const start = await anvil.blockNumber();
    for (let i = 0; i < 5; i += 1) {
      await anvil.mine();
      // Polling sees every block only if it is not outpaced; wait for each.
      await until(`head ${start + BigInt(i) + 1n}`, () =>
        heads.some((h) => h.number === start + BigInt(i) + 1n),
      );
    }
    unsubscribe();
    const mined = heads.filter((h) => h.number > start);
    expect(mined.map((h) => h.number)).toEqual([1n, 2n, 3n, 4n, 5n].map((n) => start + n));
    for (let i = 1; i < mined.length; i += 1) expect(mined[i].parentHash).toBe(mined[i - 1].hash);
    const block = await chain.blockWithTransactions(mined[4].hash);
    expect(block?.number).toBe(mined[4].number);
    expect(mined[4].hash).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('reads a block with its transactions by number and by hash, lower-case', async () => {
    const chain = client(anvil.wsUrl);
    const to = fresh();
    const hash = await sendEth(anvil, {
      from: 3,
      to: to.toUpperCase().replace('0X', '0x') as Hex,
      valueWei: 42n,
    });
    const number = await anvil.mine();
    const byNumber = await chain.blockWithTransactions(number);
    expect(byNumber?.transactions).toEqual([
      { hash, from: ANVIL_ACCOUNTS[3].address, to, value: 42n, transactionIndex: 0 },
    ]);
    const byHash = await chain.blockWithTransactions(byNumber!.hash);
    expect(byHash).toEqual(byNumber);
    expect(await chain.blockWithTransactions(number + 100n)).toBeNull();
    expect((await chain.latestHead()).number).toBe(number);
  });

  it('reports a reverted transfer as failed and a plain one as succeeded', async () => {
    const chain = client(anvil.wsUrl);
    const ok = await sendEth(anvil, { to: fresh(), valueWei: 1n });
    const failed = await revertedTransfer(anvil, { from: 1, to: fresh(), valueWei: 10n }); // mines both in one block
    const block = await chain.blockWithTransactions(await anvil.blockNumber());
    expect(block?.transactions.map((t) => t.hash).sort()).toEqual([ok, failed].sort());
    const statuses = await chain.receiptStatuses(block!.hash, [ok, failed]);
    expect(statuses).toEqual(
      new Map([
        [ok, true],
        [failed, false],
      ]),
    );
  });

  it('decodes Transfer logs of the listed tokens only, by block hash', async () => {
    const chain = client(anvil.wsUrl);
    const six = await deployTestToken(anvil, { symbol: 'SIX', decimals: 6 });
    const eighteen = await deployTestToken(anvil, { symbol: 'EIGHTEEN', decimals: 18 });
    const unlisted = await deployTestToken(anvil, { symbol: 'OTHER', decimals: 18 });
    const to = fresh();
    const a = await sendToken(anvil, { token: six, to, amount: 1_500_000n });
    const b = await sendToken(anvil, { token: eighteen, to, amount: 2n * 10n ** 18n + 1n });
    await sendToken(anvil, { token: unlisted, to, amount: 5n });
    const head = await chain.blockWithTransactions(await anvil.mine());
    const logs = await chain.transferLogs(head!.hash, [six, eighteen]);
    expect(
      logs
        .map(({ token, from, to: recipient, value, transactionHash }) => ({
          token,
          from,
          to: recipient,
          value,
          transactionHash,
        }))
        .sort((x, y) => (x.value < y.value ? -1 : 1)),
    ).toEqual([
      { token: six, from: ANVIL_ACCOUNTS[0].address, to, value: 1_500_000n, transactionHash: a },
      {
        token: eighteen,
        from: ANVIL_ACCOUNTS[0].address,
        to,
        value: 2n * 10n ** 18n + 1n,
        transactionHash: b,
      },
    ]);
    expect(logs.every((l) => l.blockHash === head!.hash && l.blockNumber === head!.number)).toBe(true);
    expect(await chain.transferLogs(head!.hash, [])).toEqual([]);
  });

  it('reads the same transactions and statuses from traces as from full blocks and receipts', async () => {
    const traced = client(anvil.wsUrl);
    const plain = client(anvil.wsUrl, { useTraces: false, debugTraces: false }); // receipts
    const first = (await anvil.blockNumber()) + 1n;
    const token = await deployTestToken(anvil, { symbol: 'EQ', decimals: 6 }); // a creation
    for (let i = 0; i < 20; i += 1)
      await sendEth(anvil, { from: i % 10, to: fresh(), valueWei: BigInt(i + 1) });
    await sendToken(anvil, { token, to: fresh(), amount: 9n });
    await revertedTransfer(anvil, { from: 4, to: fresh(), valueWei: 3n }); // mines the batch above
    await anvil.mine(); // an empty block
    const last = await anvil.blockNumber();
    for (let n = first; n <= last; n += 1n) {
      const viaTraces = await traced.blockWithTransactions(n);
      const full = await plain.blockWithTransactions(n);
      // (Internal transfers: the plain client has no trace to read them from.)
      expect({ ...viaTraces, internalTransfers: null }).toEqual(full);
      const hashes = full!.transactions.map((t) => t.hash);
      expect(await traced.receiptStatuses(full!.hash, hashes)).toEqual(
        await plain.receiptStatuses(full!.hash, hashes),
      );
      expect(await traced.blockWithTransactions(full!.hash)).toEqual(viaTraces);
    }
    const statuses = [
      ...(
        await plain.receiptStatuses(
          (await plain.blockWithTransactions(last - 1n))!.hash,
          (await plain.blockWithTransactions(last - 1n))!.transactions.map((t) => t.hash),
        )
      ).values(),
    ];
    expect(statuses.filter((ok) => !ok)).toHaveLength(1); // the reverted one is seen as failed both ways
  });

  it.each([
    [
      'answers method-not-found',
      (res: ServerResponse) =>
        res.end(
          JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found' } }),
        ),
    ],
    ['refuses with a bare HTTP 403', (res: ServerResponse) => res.writeHead(403).end('forbidden')],
  ])('reads full blocks from a node whose trace_block %s', async (_label, refuse) => {
    // A real node behind a forwarder that refuses trace_block, like geth or a provider's free tier.
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (body.includes('"trace_block"')) return refuse(res);
        fetch(anvil.httpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
          .then(async (upstream) =>
            res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text()),
          )
          .catch(() => res.writeHead(502).end());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const chain = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      const ok = await sendEth(anvil, { to: fresh(), valueWei: 2n });
      const failed = await revertedTransfer(anvil, { from: 6, to: fresh(), valueWei: 3n });
      const number = await anvil.blockNumber();
      for (let i = 0; i < 2; i += 1) {
        const block = await chain.blockWithTransactions(number);
        expect(block?.transactions.map((t) => t.hash).sort()).toEqual([ok, failed].sort());
        expect(await chain.receiptStatuses(block!.hash, [ok, failed])).toEqual(
          new Map([
            [ok, true],
            [failed, false],
          ]),
        );
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('sends the requests made in one tick in one write, and answers each', async () => {
    const socket = await WsRpcConnection.open(anvil.wsUrl, { timeoutMs: 5_000 });
    try {
      // The TCP socket under ws: its write calls (one system call each) are what corking saves;
      // on the wire it is all one byte stream either way.
      const raw = (
        socket as unknown as { socket: { _socket: Record<string, (...args: never[]) => unknown> } }
      ).socket._socket;
      let writes = 0;
      for (const method of ['_write', '_writev']) {
        const original = raw[method].bind(raw);
        raw[method] = (...args: never[]) => {
          writes++;
          return original(...args);
        };
      }
      const head = BigInt(await socket.request<Hex>('eth_blockNumber', []));
      writes = 0;
      const numbers = Array.from({ length: 40 }, (_, i) => (head > BigInt(i) ? head - BigInt(i) : 0n));
      const blocks = await Promise.all(
        numbers.map((n) =>
          socket.request<{ number: Hex }>('eth_getBlockByNumber', [`0x${n.toString(16)}`, false]),
        ),
      );
      expect(blocks.map((b) => BigInt(b.number))).toEqual(numbers);
      expect(writes).toBe(1); // uncorked: 40
    } finally {
      socket.close();
    }
  });

  it('refuses a node that serves another chain', async () => {
    const chain = client(anvil.wsUrl, { chainId: 1n });
    await expect(chain.assertChainId()).rejects.toThrow(ChainIdMismatchError);
    let reconnects = 0;
    const heads: BlockHead[] = [];
    chain.subscribeHeads({ onHead: (h) => heads.push(h), onReconnect: () => (reconnects += 1) });
    await new Promise((resolve) => setTimeout(resolve, 400)); // several refused connects
    expect(reconnects).toBe(0);
  });

  it('never reports receipts of another block than the one asked for', async () => {
    // Without traces, statuses come from the node, which now has the tx in no block or another.
    const chain = client(anvil.wsUrl, { useTraces: false, debugTraces: false });
    const hash = await sendEth(anvil, { to: fresh(), valueWei: 1n });
    const block = await chain.blockWithTransactions(await anvil.mine());
    await anvil.reorg(1, [{ from: ANVIL_ACCOUNTS[5].address, to: fresh(), value: 1n, blockOffset: 0 }]);
    await expect(chain.receiptStatuses(block!.hash, [hash])).rejects.toThrow(BlockMismatchError);
  });

  it('reports the finalized block of a node that has one', async () => {
    const chain = client(anvil.httpUrl);
    const finalized = await chain.finalizedHead();
    expect(finalized === null || finalized.number <= (await anvil.blockNumber())).toBe(true);
  });
});
