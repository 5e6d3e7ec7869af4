import { randomBytes } from 'node:crypto';

import type { DataSource } from 'typeorm';

import type { Hex } from '../../src/common/evm.js';
import { createDataSource } from '../../src/database/data-source.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';
import type { DepositEventData, LoggedEvent } from '../../src/events/domain-events.js';
import { EventLogRepository } from '../../src/events/event-log.repository.js';
import { MonitorRepository, SETTLE_LOCK, STALE_LIVE_IDS } from '../../src/monitor/monitor.repository.js';
import {
  CursorMovedError,
  type DetectedDeposit,
  type MonitoredNetwork,
  type WindowBlock,
} from '../../src/monitor/monitor.types.js';
import { createTestDatabase, type TestDatabase, untilOneWaits } from '../helpers/database.js';
import { randomAddress } from './monitor-helpers.js';

const randomHash = (): Hex => `0x${randomBytes(32).toString('hex')}`;

/** The monitor only logs deposit events. */
const depositData = (event: LoggedEvent): DepositEventData => event.data as DepositEventData;

/** `count` hash-linked blocks after `parent`. */
function chainAfter(parent: WindowBlock, count: number): WindowBlock[] {
  const blocks: WindowBlock[] = [];
  let previous = parent;
  for (let i = 0; i < count; i++) {
    previous = { number: previous.number + 1n, hash: randomHash(), parentHash: previous.hash };
    blocks.push(previous);
  }
  return blocks;
}

const depositIn = (block: WindowBlock, wallet: Hex): DetectedDeposit => ({
  txHash: randomHash(),
  logIndex: -1,
  traceAddress: '',
  transferType: 'native',
  blockNumber: block.number,
  blockHash: block.hash,
  from: randomAddress(),
  wallet,
  assetType: 'native',
  symbol: 'ETH',
  contract: null,
  decimals: 18,
  amount: 10n ** 18n,
});

/**
 * The repository's block commit against PostgreSQL, with blocks made up here (the chain side is
 * covered by the follower's suites): what one commit writes, and that a stale cursor writes nothing.
 */
describe(`${MonitorRepository.name}.commitBlocks`, () => {
  const WINDOW = 8;
  let database: TestDatabase;
  let dataSource: DataSource;
  let repository: MonitorRepository;
  let network: MonitoredNetwork;
  let tip: WindowBlock;

  const windowNumbers = async () =>
    (
      await dataSource.query<{ number: string }[]>(
        `SELECT number::text AS number FROM chain_blocks WHERE network_id = $1 ORDER BY number`,
        [network.id],
      )
    ).map((r) => BigInt(r.number));
  const counts = async () => {
    const [row] = await dataSource.query<{ deposits: number; events: number; blocks: number }[]>(
      `SELECT (SELECT count(*) FROM deposits)::int AS deposits, (SELECT count(*) FROM event_log)::int AS events,
              (SELECT count(*) FROM chain_blocks)::int AS blocks`,
    );
    return row;
  };
  const commit = (
    expectedTip: WindowBlock,
    blocks: WindowBlock[],
    deposits: DetectedDeposit[] = [],
    settle?: { finalized: bigint | null },
  ) =>
    repository.commitBlocks({
      network,
      expectedTip,
      blocks,
      deposits,
      windowSize: WINDOW,
      walletSeq: { seen: 0n, current: 0n },
      settle,
    });
  /**
   * Runs `work` while another transaction holds `lock` (a statement and its parameters), and
   * checks that it waits for that transaction (`locktype` in pg_locks) until it ends; `meanwhile`
   * runs while it waits. Returns what `work` returned.
   */
  const whileHeld = async <T>(
    lock: [string, unknown[]],
    locktype: string,
    work: () => Promise<T>,
    meanwhile: () => Promise<void> = async () => undefined,
  ): Promise<T> => {
    const holder = dataSource.createQueryRunner();
    await holder.connect();
    try {
      await holder.startTransaction();
      await holder.query(...lock);
      let done = false;
      const running = work().finally(() => (done = true));
      running.catch(() => undefined); // awaited below
      await untilOneWaits(dataSource, locktype, `it did not wait for the ${locktype} lock`);
      await meanwhile();
      expect(done).toBe(false);
      await holder.commitTransaction();
      return await running;
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
    }
  };
  /** Fails unless `work` is over within 5 s: it must not wait for a lock held meanwhile. */
  const promptly = <T>(work: Promise<T>, what: string): Promise<T> =>
    Promise.race([
      work,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} waited`)), 5_000).unref()),
    ]);
  const walletEvents = (events: LoggedEvent[], wallet: Hex) =>
    events
      .filter((e) => depositData(e).wallet_address.toLowerCase() === wallet)
      .map((e) => [e.type, depositData(e).tx_hash, depositData(e).confirmations]);

  beforeAll(async () => {
    database = await createTestDatabase();
    // The lock tests hold a connection, run a writer that waits, another beside it, and probe.
    dataSource = createDataSource(database.url, 6);
    await dataSource.initialize();
    await runMigrationsLocked(dataSource);
    repository = new MonitorRepository(dataSource, new EventLogRepository(dataSource));
    network = (await repository.enabledNetworks()).find((n) => n.key === 'devnet')!;
    tip = { number: 100n, hash: randomHash(), parentHash: randomHash() };
    await repository.initCursor(network, tip);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('a batch longer than the window leaves exactly the window (its last blocks and their ancestor), the cursor on the last', async () => {
    const blocks = chainAfter(tip, WINDOW + 5);
    const wallet = randomAddress();
    const result = await commit(tip, blocks, [depositIn(blocks[0], wallet), depositIn(blocks[12], wallet)]);
    tip = blocks[blocks.length - 1];

    // WINDOW blocks a reorg may replace, and the block below them (the ancestor of the deepest).
    expect(await windowNumbers()).toEqual(blocks.slice(-(WINDOW + 1)).map((b) => b.number));
    const state = await repository.loadState(network.id);
    expect(state.window).toEqual(blocks.slice(-(WINDOW + 1)));
    // The first block is already 13 deep at the new cursor (3 confirmations required on devnet).
    expect(result.events.map((e) => [e.type, depositData(e).block_number, depositData(e).status])).toEqual([
      ['deposit.detected', blocks[0].number.toString(), 'completed'],
      ['deposit.detected', blocks[12].number.toString(), 'pending'],
      ['deposit.completed', blocks[0].number.toString(), 'completed'],
    ]);
  });

  it('refuses a stale cursor and writes nothing: no block, deposit, event or cursor move', async () => {
    const before = await counts();
    const stale = { ...tip, hash: randomHash() };
    const blocks = chainAfter(stale, 2);
    await expect(commit(stale, blocks, [depositIn(blocks[1], randomAddress())])).rejects.toThrow(
      CursorMovedError,
    );
    expect(await counts()).toEqual(before);
    expect((await repository.loadState(network.id)).window.at(-1)).toEqual(tip);
  });

  it('probes the live deposits of a block’s transactions by index, also with statistics that lag the table', async () => {
    // Every block's commit looks for live rows of its transactions in another block. Right after
    // many rows arrived (no ANALYZE yet), the planner read all of the network's live deposits for
    // that (4 ms a block at 9,000 rows, growing with the table); it must probe the live key.
    await dataSource.query(
      `INSERT INTO deposits (network_id, tx_hash, log_index, trace_address, block_number, block_hash, from_address,
              wallet_address, asset_type, asset_symbol, asset_contract, asset_decimals, amount, confirmations,
              required_confirmations, status, completed_at)
       SELECT $1, '0x' || lpad(to_hex(i), 64, '0'), -1, '', 50, '0x' || repeat('5', 64), $2, $2, 'native', 'ETH',
              NULL, 18, 1, 3, 3, 'completed', now()
         FROM generate_series(1, 20000) AS i`,
      [network.id, randomAddress()],
    );
    try {
      const txs = Array.from({ length: 200 }, randomHash);
      const [{ 'QUERY PLAN': plan }] = await dataSource.query<{ 'QUERY PLAN': unknown }[]>(
        `EXPLAIN (FORMAT JSON) ${STALE_LIVE_IDS('$1', '$2', '$3')}`,
        [network.id, txs, txs.map(() => randomHash())],
      );
      const scans: { type: string; cond: string }[] = [];
      const walk = (node: Record<string, unknown>) => {
        if (node['Relation Name'] === 'deposits')
          scans.push({
            type: String(node['Node Type']),
            cond: typeof node['Index Cond'] === 'string' ? node['Index Cond'] : '',
          });
        for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
      };
      walk((plan as { Plan: Record<string, unknown> }[])[0].Plan);
      expect(scans.length).toBeGreaterThan(0);
      for (const scan of scans) {
        expect(scan.type).toMatch(/^Index (Only )?Scan$/);
        expect(scan.cond).toContain('tx_hash');
      }
    } finally {
      await dataSource.query(`DELETE FROM deposits WHERE block_number = 50 AND network_id = $1`, [
        network.id,
      ]);
    }
  });

  it('orphans what a rescanned height held under another hash, with its event, and nothing else', async () => {
    const wallet = randomAddress();
    const [first, second] = chainAfter(tip, 2);
    const keep = depositIn(first, wallet);
    const drop = depositIn(second, wallet);
    await commit(tip, [first, second], [keep, drop]);
    // A reorg deeper than the window: the window restarts at `first` and the chain is rescanned
    // from there; height `second` now holds another block, without the deposit.
    await repository.resetWindow(network, second, first, []);
    const [replacement] = chainAfter(first, 1);
    const result = await commit(first, [replacement]);
    tip = replacement;

    expect(result.events.map((e) => [e.type, depositData(e).tx_hash, depositData(e).status])).toEqual([
      ['deposit.orphaned', drop.txHash, 'orphaned'],
    ]);
    const rows = await dataSource.query<{ tx_hash: string; status: string }[]>(
      `SELECT tx_hash, status FROM deposits WHERE wallet_address = $1 ORDER BY block_number`,
      [wallet],
    );
    expect(rows).toEqual([
      { tx_hash: keep.txHash, status: 'pending' },
      { tx_hash: drop.txHash, status: 'orphaned' },
    ]);
  });

  it('announces deposits in chain order, also across a power of ten (block 999 before block 1000)', async () => {
    // The statements return rows in any order; the events go out by block, then position. Block
    // numbers come back as decimal strings, which do not sort as text across a power of ten.
    let boundary = 10n;
    while (boundary <= tip.number + 1n) boundary *= 10n;
    const blocks = chainAfter(tip, Number(boundary - tip.number));
    const wallet = randomAddress();
    const before = depositIn(blocks[blocks.length - 2], wallet);
    const at = depositIn(blocks[blocks.length - 1], wallet);
    const detected = await commit(tip, blocks, [before, at]);
    const [next] = chainAfter(blocks[blocks.length - 1], 1);
    await commit(blocks[blocks.length - 1], [next]);
    tip = next;
    const settled = await repository.settleConfirmations(network, null);

    const show = (events: LoggedEvent[]) =>
      events.map((e) => [e.type, depositData(e).block_number, depositData(e).tx_hash]);
    expect(show(detected.events)).toEqual([
      ['deposit.detected', (boundary - 1n).toString(), before.txHash],
      ['deposit.detected', boundary.toString(), at.txHash],
    ]);
    // Earlier tests' pending deposits (blocks just above 100) complete in the same settle, before
    // these: the whole settle is in chain order.
    const numbers = settled.map((e) => BigInt(depositData(e).block_number));
    expect(numbers).toEqual([...numbers].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    // Three confirmations on devnet: the deposit of the block below the boundary completes.
    expect(show(settled.filter((e) => depositData(e).wallet_address.toLowerCase() === wallet))).toEqual([
      ['deposit.completed', (boundary - 1n).toString(), before.txHash],
      ['deposit.confirmation', boundary.toString(), at.txHash],
    ]);
  });

  it('commits the next block beside a settle that is still running; that settle counts by the cursor it read', async () => {
    const wallet = randomAddress();
    const [first, second, third] = chainAfter(tip, 3);
    const older = depositIn(first, wallet);
    await commit(tip, [first], [older]);
    await commit(first, [second]);
    tip = second;
    // The settle brings `older` to 2 confirmations; its row, held by another transaction, keeps
    // the settle waiting inside its UPDATE while the next block arrives.
    const newer = depositIn(third, wallet);
    let block: Awaited<ReturnType<typeof commit>> | undefined;
    const settled = await whileHeld(
      [`SELECT 1 FROM deposits WHERE tx_hash = $1 FOR UPDATE`, [older.txHash]],
      'transactionid',
      () => repository.settleConfirmations(network, null),
      async () => {
        block = await promptly(commit(second, [third], [newer]), 'the block’s commit');
      },
    );
    tip = third;
    expect(walletEvents(block!.events, wallet)).toEqual([['deposit.detected', newer.txHash, 1]]);
    expect(walletEvents(settled, wallet)).toEqual([['deposit.confirmation', older.txHash, 2]]);
    // The block committed meanwhile is the next settle's.
    const next = await repository.settleConfirmations(network, null);
    expect(walletEvents(next, wallet)).toEqual([['deposit.completed', older.txHash, 3]]);
  });

  it('a settle waits for the settling lock, then reads the cursor: a block committed while it waited is counted', async () => {
    const wallet = randomAddress();
    const [first, second, third] = chainAfter(tip, 3);
    const deposit = depositIn(first, wallet);
    await commit(tip, [first], [deposit]);
    await commit(first, [second]);
    tip = second;
    // At `second` the deposit has 2 confirmations; the settle, let go after `third` committed,
    // must count 3 and complete it (read in the lock's statement, the cursor would be `second`).
    const settled = await whileHeld(
      [SETTLE_LOCK, [network.id]],
      'advisory',
      () => repository.settleConfirmations(network, null),
      async () => {
        await promptly(commit(second, [third]), 'a block’s commit');
      },
    );
    tip = third;
    expect(walletEvents(settled, wallet)).toEqual([['deposit.completed', deposit.txHash, 3]]);
  });

  it('rewinds, resets, catch-up commits and settings changes wait for a settle in progress', async () => {
    const wallet = randomAddress();
    const [first, second] = chainAfter(tip, 2);
    await whileHeld([SETTLE_LOCK, [network.id]], 'advisory', () =>
      commit(tip, [first, second], [depositIn(second, wallet)], { finalized: null }),
    );
    await whileHeld([SETTLE_LOCK, [network.id]], 'advisory', () => repository.rewind(network, second, first));
    await whileHeld([SETTLE_LOCK, [network.id]], 'advisory', () =>
      repository.resetWindow(network, first, first, []),
    );
    tip = first;
    await whileHeld([SETTLE_LOCK, [network.id]], 'advisory', () =>
      repository.applyNetworkSettings(network, null),
    );
    // The rewind orphaned the deposit of `second`.
    const rows = await dataSource.query<{ status: string }[]>(
      `SELECT status FROM deposits WHERE wallet_address = $1`,
      [wallet],
    );
    expect(rows).toEqual([{ status: 'orphaned' }]);
  });
});
