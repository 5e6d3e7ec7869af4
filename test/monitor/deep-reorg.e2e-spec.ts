import { jest } from '@jest/globals';

import type { Hex } from '../../src/common/evm.js';
import { ChainFollower } from '../../src/monitor/chain-follower.js';
import { MonitorRepository } from '../../src/monitor/monitor.repository.js';
import {
  type Anvil,
  ANVIL_ACCOUNTS,
  deployForwarder,
  deployTestToken,
  forwarderCall,
  sendEth,
  sendThroughForwarder,
  sendToken,
  startAnvil,
} from '../helpers/anvil.js';
import { signUp, startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/process.js';
import { seededRandom } from '../helpers/random.js';
import { type RpcRecorder, startRpcRecorder } from '../helpers/rpc-recorder.js';
import {
  depositsOf,
  eventsOf,
  randomAddress,
  rawTransaction,
  recordDoubleLive,
  sendRaw,
  synced,
} from './monitor-helpers.js';

const listToken = async (app: TestApp, token: Hex, symbol: string, decimals: number) => {
  await app.dataSource.query(
    `INSERT INTO tokens (network_id, contract_address, symbol, decimals)
     SELECT id, $1, $2, $3 FROM blockchain_networks WHERE key = 'devnet'`,
    [token, symbol, decimals],
  );
};

const watchAll = async (app: TestApp, auth: { Authorization: string }, addresses: Hex[]) => {
  for (const address of addresses) await app.http().post('/wallets').set(auth).send({ address }).expect(201);
};

describe(`${ChainFollower.name}: reorg deeper than the window (issue #14 scenario)`, () => {
  let anvil: Anvil;
  let app: TestApp;
  let auth: { Authorization: string };

  beforeAll(async () => {
    anvil = await startAnvil();
    app = await startTestApp({ APP_ROLE: 'all', DEVNET_ENABLED: 'false', DEVNET_RPC_URL: anvil.wsUrl });
    ({ auth } = await signUp(app));
  });

  afterAll(async () => {
    await app?.close();
    await anvil?.stop();
  });

  it('keeps one live row per ERC-20 transfer re-mined at a lower height and another log index', async () => {
    const doubleLive = await recordDoubleLive(app.dataSource);
    const token = await deployTestToken(anvil, { symbol: 'TEST', decimals: 6 });
    await listToken(app, token, 'TEST', 6);
    await sendToken(anvil, { token, to: ANVIL_ACCOUNTS[1].address, amount: 10n ** 12n });
    const wallets = [randomAddress(), randomAddress(), randomAddress()];
    await watchAll(app, auth, wallets);
    await anvil.mine(300);
    await synced(app.dataSource, anvil, 60_000);
    const snapshot = await anvil.snapshot();
    const fork = await anvil.blockNumber();

    // Transfers spread over the 130 blocks (each its block's only log: index 0), so the rescan
    // meets the new block long before the old heights.
    const offsets = [0, 25, 50, 75, 100, 120];
    const sent: Hex[] = [];
    for (let i = 0; i < offsets.length; i++) {
      sent.push(await sendToken(anvil, { token, to: wallets[i % 3], amount: 1_000_000n + BigInt(i) }));
      await anvil.mine((offsets[i + 1] ?? 130) - offsets[i]);
    }
    await synced(app.dataSource, anvil, 60_000);
    const before = new Map(
      (await Promise.all(wallets.map((w) => depositsOf(app.dataSource, w))))
        .flat()
        .map((d) => [d.tx_hash, d]),
    );
    expect([...before.values()].map((d) => d.status)).toEqual(Array(6).fill('completed'));
    const raws = await Promise.all(sent.map((tx) => rawTransaction(anvil, tx)));

    // The chain goes back to the snapshot: one block holds a new transfer, then the same raw
    // transactions (now at lower heights but the first, and at log indexes 1..6), then 132 more.
    expect(await anvil.revert(snapshot)).toBe(true);
    const fresh = await sendToken(anvil, { token, from: 1, to: wallets[0], amount: 42n });
    for (const raw of raws) await sendRaw(anvil, raw);
    await anvil.mine();
    await anvil.mine(132);
    await synced(app.dataSource, anvil, 90_000);

    const after = (await Promise.all(wallets.map((w) => depositsOf(app.dataSource, w)))).flat();
    const live = after.filter((d) => d.status !== 'orphaned');
    expect(live.map((d) => d.tx_hash).sort()).toEqual([fresh, ...sent].sort());
    expect(after).toHaveLength(7); // no second row for any transfer
    sent.forEach((tx, i) => {
      expect(before.get(tx)).toMatchObject({
        block_number: (fork + 1n + BigInt(offsets[i])).toString(),
        log_index: 0,
      });
      const row = after.find((d) => d.tx_hash === tx)!;
      expect(row).toMatchObject({
        id: before.get(tx)!.id,
        status: 'completed',
        block_number: (fork + 1n).toString(),
        log_index: i + 1,
      });
    });
    // Every event of a transfer names its one deposit id; no commit ever held two live rows.
    const events = (await Promise.all(wallets.map((w) => eventsOf(app.dataSource, w)))).flat();
    for (const tx of sent) {
      expect(new Set(events.filter((e) => e.data.tx_hash === tx).map((e) => e.data.deposit_id))).toEqual(
        new Set([before.get(tx)!.id]),
      );
    }
    expect(await doubleLive()).toEqual([]);
  });
});

/** What a transaction sent by the randomized test pays to watched wallets when it succeeds. */
interface SentTx {
  hash: Hex;
  raw: Hex;
  sender: number;
  nonce: number;
  kind: 'native' | 'token' | 'internal';
  /** Internal: each with the trace address of its call. */
  payments: { wallet: Hex; amount: bigint; trace?: string }[];
}

interface Receipt {
  blockHash: Hex;
  blockNumber: Hex;
  status: Hex;
  logs: { logIndex: Hex; topics: Hex[] }[];
}

describe(`${ChainFollower.name}: a node that lags for a moment is not a rollback`, () => {
  const POLL_MS = 250;
  let anvil: Anvil;
  let proxy: RpcRecorder;
  let app: TestApp;
  let auth: { Authorization: string };

  beforeAll(async () => {
    anvil = await startAnvil();
    // Heads polled over HTTP through a proxy that can answer `latest` as a node behind would.
    proxy = await startRpcRecorder(anvil.httpUrl);
    app = await startTestApp({
      APP_ROLE: 'all',
      DEVNET_ENABLED: 'false',
      DEVNET_RPC_URL: proxy.httpUrl,
      MONITOR_POLL_INTERVAL_MS: String(POLL_MS),
    });
    ({ auth } = await signUp(app));
  });

  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await anvil?.stop();
  });

  it('keeps the deposits above a lower head that a lagging backend answers until it catches up', async () => {
    const wallet = randomAddress();
    await watchAll(app, auth, [wallet]);
    await anvil.mine();
    const tx = await sendEth(anvil, { to: wallet, valueWei: 7n });
    await anvil.mine();
    const head = await synced(app.dataSource, anvil);

    // Seen from the follower: whether it has read the lower head twice (the poll's answer and its
    // own read of the latest head) and now waits for the rollback to hold.
    type Lowering = { lowerHead(head: unknown): Promise<boolean> };
    const follower = ChainFollower.prototype as unknown as Lowering;
    const lowerHead = follower.lowerHead;
    let waiting = false;
    const spy = jest.spyOn(follower, 'lowerHead').mockImplementation(async function (this: Lowering, lower) {
      const done = await lowerHead.call(this, lower);
      if (!done) waiting = true;
      return done;
    });
    try {
      // Every read of the latest head answers the block before until the follower waits; then the
      // backend has caught up, before the grace (two poll intervals) is over.
      const behind = `0x${(head - 1n).toString(16)}`;
      proxy.rewrite = (call) =>
        !waiting && call.method === 'eth_getBlockByNumber' && call.params[0] === 'latest'
          ? { ...call, params: [behind, ...call.params.slice(1)] }
          : call;
      await waitFor(async () => (waiting ? true : undefined), 5_000, 'the follower to wait for the rollback');
      proxy.rewrite = undefined;
      // Past the grace: the follower has read the latest head again and decided.
      await new Promise((resolve) => setTimeout(resolve, 4 * POLL_MS));
    } finally {
      proxy.rewrite = undefined;
      spy.mockRestore();
    }

    await anvil.mine();
    await synced(app.dataSource, anvil);
    expect((await eventsOf(app.dataSource, wallet)).map((e) => [e.type, e.data.tx_hash])).toEqual([
      ['deposit.detected', tx],
      ['deposit.confirmation', tx],
    ]);
  });
});

describe(`${ChainFollower.name}: randomized reorgs`, () => {
  const WINDOW = 12;
  const SEED = 1414;
  let anvil: Anvil;
  let app: TestApp;
  let auth: { Authorization: string };

  beforeAll(async () => {
    anvil = await startAnvil();
    // Heads polled over HTTP: a rollback without a new block is seen as a lower head.
    app = await startTestApp({
      APP_ROLE: 'all',
      DEVNET_ENABLED: 'false',
      DEVNET_RPC_URL: anvil.httpUrl,
      MONITOR_POLL_INTERVAL_MS: '100',
      MONITOR_WINDOW_SIZE: String(WINDOW),
    });
    ({ auth } = await signUp(app));
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await app?.close();
    await anvil?.stop();
  });

  it('orphans the dropped deposits when the node goes back to a lower head with no new block', async () => {
    const wallet = randomAddress();
    await watchAll(app, auth, [wallet]);
    await anvil.mine();
    await synced(app.dataSource, anvil);
    const tx = await sendEth(anvil, { to: wallet, valueWei: 5n });
    await anvil.mine(2);
    await synced(app.dataSource, anvil);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => [d.tx_hash, d.status])).toEqual([
      [tx, 'pending'],
    ]);
    await anvil.rpc('anvil_rollback', [2]);
    await synced(app.dataSource, anvil);
    expect((await depositsOf(app.dataSource, wallet)).map((d) => [d.tx_hash, d.status])).toEqual([
      [tx, 'orphaned'],
    ]);
    // The status follows the node down: head = cursor = the lower head, not the old tip.
    const head = (await anvil.blockNumber()).toString();
    const status = await waitFor(
      async () => {
        const { body } = await app.http().get('/networks/devnet').expect(200);
        const view = body as { status: { head_block: string; cursor_block: string; lag_blocks: string } };
        return view.status.head_block === head ? view.status : undefined;
      },
      10_000,
      'the status head to follow the rollback',
    );
    expect(status).toMatchObject({ head_block: head, cursor_block: head, lag_blocks: '0' });
  });

  it(`walks back a reorg of exactly the window (${WINDOW} blocks) and rescans only past it`, async () => {
    const reset = jest.spyOn(MonitorRepository.prototype, 'resetWindow');
    const wallet = randomAddress();
    await watchAll(app, auth, [wallet]);
    await anvil.mine(WINDOW + 2);
    await synced(app.dataSource, anvil);
    const kept = await sendEth(anvil, { to: wallet, valueWei: 1n });
    await anvil.mine();
    const dropped = await sendEth(anvil, { to: wallet, valueWei: 2n });
    await anvil.mine(WINDOW);
    await synced(app.dataSource, anvil);

    await anvil.rpc('anvil_rollback', [WINDOW]);
    await anvil.mine(WINDOW + 1);
    await synced(app.dataSource, anvil);
    expect(reset).not.toHaveBeenCalled();
    const byTx = new Map((await depositsOf(app.dataSource, wallet)).map((d) => [d.tx_hash, d.status]));
    expect(byTx).toEqual(
      new Map([
        [kept, 'completed'],
        [dropped, 'orphaned'],
      ]),
    );

    // One block more: the ancestor is below the window; the rescan finds `kept` where it was.
    await anvil.rpc('anvil_rollback', [WINDOW + 1]);
    await anvil.mine(WINDOW + 2);
    await synced(app.dataSource, anvil);
    expect(reset).toHaveBeenCalledTimes(1);
    expect(new Map((await depositsOf(app.dataSource, wallet)).map((d) => [d.tx_hash, d.status]))).toEqual(
      byTx,
    );
    // A reset orphans only what left the chain: `kept` was never orphaned.
    const keptEvents = (await eventsOf(app.dataSource, wallet)).filter((e) => e.data.tx_hash === kept);
    expect(keptEvents.map((e) => e.type)).not.toContain('deposit.orphaned');
    reset.mockRestore();
  });

  it(`keeps the deposits equal to the chain after every step (seed ${SEED}; native, ERC-20, internal; depths past the window)`, async () => {
    const reset = jest.spyOn(MonitorRepository.prototype, 'resetWindow');
    const random = seededRandom(SEED);
    const int = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
    const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)];
    const doubleLive = await recordDoubleLive(app.dataSource);
    const token = await deployTestToken(anvil, { symbol: 'RND', decimals: 18 });
    await listToken(app, token, 'RND', 18);
    const forwarder = await deployForwarder(anvil);
    const inner = await deployForwarder(anvil);
    const senders = [2, 3, 4, 5, 6, 7];
    for (const s of senders)
      await sendToken(anvil, { token, to: ANVIL_ACCOUNTS[s].address, amount: 10n ** 24n });
    const wallets = Array.from({ length: 4 }, () => randomAddress());
    await watchAll(app, auth, wallets);
    // Rollbacks never reach the contracts and balances set up here.
    await anvil.mine(WINDOW + 6);
    const floor = await anvil.blockNumber();
    await synced(app.dataSource, anvil);
    const sent: SentTx[] = [];
    let amount = 1000n;

    const nonceOf = async (sender: number) =>
      Number(await anvil.rpc<Hex>('eth_getTransactionCount', [ANVIL_ACCOUNTS[sender].address, 'pending']));
    /** A new random transfer (not from `busy` senders); its raw form is read once it is mined. */
    const sendRandom = async (busy: ReadonlySet<number>): Promise<Omit<SentTx, 'raw'>> => {
      const sender = pick(senders.filter((s) => !busy.has(s)));
      const nonce = await nonceOf(sender);
      const kind = pick(['native', 'token', 'internal'] as const);
      const wallet = pick(wallets);
      amount += 1n;
      if (kind === 'native') {
        const hash = await sendEth(anvil, { from: sender, to: wallet, valueWei: amount });
        return { hash, sender, nonce, kind, payments: [{ wallet, amount }] };
      }
      if (kind === 'token') {
        const hash = await sendToken(anvil, { token, from: sender, to: wallet, amount });
        return { hash, sender, nonce, kind, payments: [{ wallet, amount }] };
      }
      // Two payments, by the forwarder's calls [0] and [1], or two calls deeper through `inner`.
      const other = pick(wallets);
      const relayed = random() < 0.5;
      const to: Hex[] = [wallet, other];
      const amounts = [amount, amount + 100_000n];
      const payments = to.map((w, i) => ({
        wallet: w,
        amount: amounts[i],
        trace: relayed ? `0.${i}` : `${i}`,
      }));
      const hash = await sendThroughForwarder(anvil, {
        from: sender,
        forwarder,
        valueWei: amounts[0] + amounts[1],
        data: relayed ? forwarderCall('relay', inner, to, amounts) : forwarderCall('split', to, amounts),
      });
      return { hash, sender, nonce, kind, payments };
    };
    /** `count` new transfers, then `before` (raw transactions to mine again), in one block. */
    const mineWith = async (
      count: number,
      before: () => Promise<void> = async () => {},
      busy = new Set<number>(),
    ) => {
      const fresh: Omit<SentTx, 'raw'>[] = [];
      const free = senders.some((sender) => !busy.has(sender));
      for (let i = 0; free && i < count; i++) fresh.push(await sendRandom(busy));
      await before();
      await anvil.mine();
      for (const tx of fresh) sent.push({ ...tx, raw: await rawTransaction(anvil, tx.hash) });
    };

    /** The highest head seen at a check while a transaction was in a block (by tx and block hash). */
    const seenHead = new Map<string, bigint>();
    /** The deposits table against the chain: every successful transfer once, live, where the node has it. */
    const check = async (step: string) => {
      const head = await anvil.blockNumber();
      const expected: string[] = [];
      for (const tx of sent) {
        const receipt = await anvil.rpc<Receipt | null>('eth_getTransactionReceipt', [tx.hash]);
        if (receipt === null || receipt.status !== '0x1') continue;
        const block = BigInt(receipt.blockNumber);
        // Completed once its block had 3 confirmations; a rollback that keeps the block does not
        // take that back (confirmations never count down), so the highest head seen counts.
        const where = `${tx.hash}:${receipt.blockHash}`;
        const highest = (seenHead.get(where) ?? head) > head ? seenHead.get(where)! : head;
        seenHead.set(where, highest);
        const status = highest - block + 1n >= 3n ? 'completed' : 'pending';
        tx.payments.forEach((p) => {
          const log = receipt.logs.find((l) => l.topics[2]?.endsWith(p.wallet.slice(2)));
          if (tx.kind === 'token' && log === undefined) {
            throw new Error(
              `no Transfer log to ${p.wallet} in ${JSON.stringify(receipt)} of ${JSON.stringify(tx, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
            );
          }
          const logIndex = tx.kind === 'token' ? Number(log!.logIndex) : -1;
          const trace = p.trace ?? '';
          expected.push(
            [tx.hash, p.wallet, logIndex, trace, p.amount, block, receipt.blockHash, status].join(' '),
          );
        });
      }
      const rows = await app.dataSource.query<
        { id: string; line: string; identity: string; status: string }[]
      >(
        `SELECT id, status, concat_ws(' ', tx_hash, wallet_address, log_index, trace_address, amount, block_number,
                block_hash, status) AS line,
                concat_ws(' ', tx_hash, wallet_address, trace_address, amount) AS identity
           FROM deposits WHERE wallet_address = ANY($1)`,
        [wallets],
      );
      const live = rows.filter((r) => r.status !== 'orphaned').map((r) => r.line);
      expect({ step, live: live.sort() }).toEqual({ step, live: expected.sort() });
      // One row per transfer ever: a transfer orphaned and mined again is the same deposit.
      const identities = rows.map((r) => r.identity);
      expect({ step, duplicates: identities.filter((id, i) => identities.indexOf(id) !== i) }).toEqual({
        step,
        duplicates: [],
      });
      expect({ step, doubleLive: await doubleLive() }).toEqual({ step, doubleLive: [] });
    };

    for (let step = 0; step < 30; step++) {
      const head = await anvil.blockNumber();
      if (random() < 0.5 || head - floor < 2n) {
        await mineWith(int(1, 5));
        if (random() < 0.6) await anvil.mine(int(1, 8));
      } else {
        // Roll back up to past the window, re-mine some of what was dropped at other heights and
        // positions (new transactions first), with fewer, as many or more blocks than were dropped.
        const depth = Math.min(int(1, WINDOW + 4), Number(head - floor));
        await anvil.rpc('anvil_rollback', [depth]);
        const dropped: SentTx[] = [];
        for (const tx of sent) {
          if ((await anvil.rpc<Receipt | null>('eth_getTransactionReceipt', [tx.hash])) === null)
            dropped.push(tx);
        }
        const blocks = int(0, depth + 2);
        // Per sender only a prefix in nonce order can be mined again (a gap would stall the rest).
        const resend = new Map<number, SentTx[]>();
        for (const tx of dropped.sort((a, b) => a.nonce - b.nonce)) {
          const queue = resend.get(tx.sender) ?? [];
          if (queue.length === 0 && tx.nonce !== (await nonceOf(tx.sender))) continue;
          if (queue.length > 0 && tx.nonce !== queue[queue.length - 1].nonce + 1) continue;
          queue.push(tx);
          resend.set(tx.sender, queue);
        }
        for (const [sender, queue] of resend) resend.set(sender, queue.slice(0, int(0, queue.length)));
        // A sender whose dropped transactions are sent again sends nothing new (it would take their nonces).
        const busy = new Set([...resend].filter(([, queue]) => queue.length > 0).map(([sender]) => sender));
        for (let b = 0; b < blocks; b++) {
          const resent = async () => {
            for (const queue of resend.values()) {
              const take = b === blocks - 1 ? queue.length : int(0, queue.length);
              for (const tx of queue.splice(0, take)) await sendRaw(anvil, tx.raw);
            }
          };
          await mineWith(int(0, 2), resent, busy);
        }
      }
      await synced(app.dataSource, anvil, 60_000);
      await check(`step ${step}`);
    }
    // The run did what it claims: reorgs past the window, revivals at other heights.
    const orphanedThenRevived = await app.dataSource.query<{ n: number }[]>(
      `SELECT count(DISTINCT (payload->>'deposit_id'))::int AS n FROM event_log
        WHERE type = 'deposit.orphaned' AND payload->>'deposit_id' IN (
              SELECT id::text FROM deposits WHERE status <> 'orphaned')`,
    );
    expect(orphanedThenRevived[0].n).toBeGreaterThan(0);
    expect(reset.mock.calls.length).toBeGreaterThan(0);
    reset.mockRestore();
  });
});
