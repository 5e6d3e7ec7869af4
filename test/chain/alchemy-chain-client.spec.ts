import { Network } from 'alchemy-sdk';

import { AlchemyChainClient } from '../../src/chain/alchemy-chain-client.js';
import type { BlockHead } from '../../src/chain/chain-client.js';
import type { Hex } from '../../src/common/evm.js';
import { type AlchemyShim, startAlchemyShim } from '../helpers/alchemy-shim.js';
import {
  ANVIL_ACCOUNTS,
  type Anvil,
  deployTestToken,
  revertedTransfer,
  sendEth,
  sendToken,
  startAnvil,
} from '../helpers/anvil.js';

const SEPOLIA = 11155111;
const fresh = (): Hex => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString('hex')}`;

async function until(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe(AlchemyChainClient.name, () => {
  let anvil: Anvil;
  let shim: AlchemyShim;
  let client: AlchemyChainClient;

  beforeAll(async () => {
    // Sepolia's chain id: the SDK checks that the node serves the network it was told.
    anvil = await startAnvil({ chainId: SEPOLIA });
    shim = await startAlchemyShim(anvil);
    client = new AlchemyChainClient({
      name: 'sepolia',
      chainId: BigInt(SEPOLIA),
      apiKey: 'test-key',
      network: Network.ETH_SEPOLIA,
      httpUrl: shim.httpUrl,
      wsUrl: shim.wsUrl,
      pollIntervalMs: 100,
      stallTimeoutMs: 30_000,
      initialBackoffMs: 100,
      maxBackoffMs: 400,
    });
  });
  afterAll(async () => {
    await client?.close();
    await shim?.close();
    await anvil?.stop();
  });

  it('streams heads through the SDK websocket, with the SDK subprotocol', async () => {
    const heads: BlockHead[] = [];
    let reconnects = 0;
    const unsubscribe = client.subscribeHeads({
      onHead: (h) => heads.push(h),
      onReconnect: () => (reconnects += 1),
    });
    try {
      await until('the subscription', () => reconnects === 1);
      expect(shim.protocols[0]).toMatch(/^alchemy-sdk-\d+\.\d+\.\d+$/);
      const start = await anvil.blockNumber();
      for (let i = 1n; i <= 3n; i += 1n) {
        await anvil.mine();
        await until(`head ${start + i}`, () => heads.some((h) => h.number === start + i));
      }
      const mined = heads.filter((h) => h.number > start);
      expect(mined.map((h) => h.number)).toEqual([start + 1n, start + 2n, start + 3n]);
      expect(mined[2].parentHash).toBe(mined[1].hash);
      expect(mined[2].hash).toBe((await client.latestHead()).hash);

      // The socket drops: heads keep coming by polling (HTTP), then the stream is reopened.
      shim.cut();
      const during = await anvil.mine();
      await until(`polled head ${during}`, () => heads.some((h) => h.number === during));
      shim.restore();
      await until('the reconnect', () => reconnects === 2);
      const after = await anvil.mine();
      await until(`head ${after}`, () => heads.some((h) => h.number === after));
    } finally {
      unsubscribe();
    }
  });

  it('survives the socket flapping during connects without unhandled rejections', async () => {
    const rejections: unknown[] = [];
    const record = (reason: unknown): number => rejections.push(reason);
    process.on('unhandledRejection', record);
    const heads: BlockHead[] = [];
    let reconnects = 0;
    const unsubscribe = client.subscribeHeads({
      onHead: (h) => heads.push(h),
      onReconnect: () => (reconnects += 1),
    });
    try {
      await until('the subscription', () => reconnects >= 1);
      for (let i = 0; i < 8; i += 1) {
        shim.cut();
        await new Promise((resolve) => setTimeout(resolve, 15 * i)); // cut at varying points
        shim.restore();
        await new Promise((resolve) => setTimeout(resolve, 20 * i));
      }
      // Whatever state the flapping left, the stream recovers: a newly mined block arrives.
      let recovered = false;
      for (let attempt = 0; attempt < 10 && !recovered; attempt += 1) {
        const number = await anvil.mine();
        await until(`head ${number}`, () => heads.some((h) => h.number >= number), 1_500).then(
          () => (recovered = true),
          () => undefined,
        );
      }
      expect(recovered).toBe(true);
      expect(rejections).toEqual([]);
    } finally {
      unsubscribe();
      process.off('unhandledRejection', record);
    }
  });

  it('reads blocks, receipt statuses and transfer logs through the SDK', async () => {
    const token = await deployTestToken(anvil, { symbol: 'USDT', decimals: 6 });
    const to = fresh();
    const eth = await sendEth(anvil, { from: 2, to, valueWei: 123n });
    const erc20 = await sendToken(anvil, { token, to, amount: 42_000_000n });
    const failed = await revertedTransfer(anvil, { from: 3, to: fresh(), valueWei: 1n }); // mines all three
    const block = await client.blockWithTransactions(await anvil.blockNumber());
    expect(block?.transactions.map((t) => t.hash).sort()).toEqual([eth, erc20, failed].sort());
    expect(block?.transactions.find((t) => t.hash === eth)).toMatchObject({
      from: ANVIL_ACCOUNTS[2].address,
      to,
      value: 123n,
    });
    expect(await client.blockWithTransactions(block!.hash)).toEqual(block);
    expect(await client.receiptStatuses(block!.hash, [eth, erc20, failed])).toEqual(
      new Map([
        [eth, true],
        [erc20, true],
        [failed, false],
      ]),
    );
    const logs = await client.transferLogs(block!.hash, [token]);
    expect(logs).toEqual([
      {
        blockNumber: block!.number,
        blockHash: block!.hash,
        transactionHash: erc20,
        logIndex: 0,
        token,
        from: ANVIL_ACCOUNTS[0].address,
        to,
        value: 42_000_000n,
      },
    ]);
    await client.assertChainId();
  });
});
