import { Logger } from '@nestjs/common';

import type { BlockHead, ChainBlock, ChainClient, Unsubscribe } from '../chain/chain-client.js';
import type { LoggedEvent } from '../events/domain-events.js';
import type { EventBus } from '../events/event-bus.js';
import { RepeatedWarning } from '../logging/repeated-warning.js';
import { detectDeposits, mapBounded } from './detect.js';
import type { MonitorRepository } from './monitor.repository.js';
import type { FollowerObserver } from './network-status.reporter.js';
import {
  CursorMovedError,
  type DetectedDeposit,
  type MonitoredNetwork,
  type PendingBackfill,
  type WatchedToken,
  type WindowBlock,
} from './monitor.types.js';
import type { WatchSet } from './watch-set.js';

export interface FollowerOptions {
  windowSize: number;
  /** Blocks per transaction when catching up (and per wallet-backfill step). */
  backfillBatchSize: number;
  /** Blocks fetched from the node at once while catching up. */
  fetchConcurrency: number;
  /** Told of heads, cursor moves and failures (the network's status). */
  observer?: FollowerObserver;
  /** Behind the head, or failing, for this long without progress = stalled (status()). */
  stallTimeoutMs?: number;
  /**
   * How long the node must keep answering a lower head of our chain as its latest before it is
   * taken as a rollback (see lowerHead). 0: at once.
   */
  rollbackGraceMs?: number;
  metrics?: FollowerMetrics;
}

/** Metrics hooks (MetricsService); the follower does not depend on how they are recorded. */
export interface FollowerMetrics {
  headSeen(network: string, number: bigint): void;
  reorg(network: string, depth: bigint): void;
}

export interface FollowerStatus {
  head: bigint | undefined;
  cursor: bigint | undefined;
  /** Stopped, or behind the announced head / failing for longer than stallTimeoutMs. */
  stalled: boolean;
}

interface ScannedBatch {
  blocks: ChainBlock[];
  deposits: DetectedDeposit[];
  walletSeq: bigint;
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

const toWindowBlock = (b: BlockHead): WindowBlock => ({
  number: b.number,
  hash: b.hash,
  parentHash: b.parentHash,
});

/**
 * Follows one network's chain and keeps its deposits equal to it. One instance per network, and
 * (through the advisory lock in MonitorSupervisor) one in all processes at a time.
 *
 * States: `starting` (load or create the cursor) → `following` (idle until a head arrives, then
 * catching up to it: the next block, a gap of blocks in batches, or a reorg) → `stopped`. Errors
 * (node or database down) retry with backoff; a cursor moved by someone else stops the follower.
 *
 * Invariant: `window` is the persisted `chain_blocks` of this network — hash-linked (each block's
 * parentHash is the hash of the one before it), ending at the cursor, at most `windowSize` long —
 * and every deposit of every block up to the cursor is recorded. It is kept by changing window,
 * cursor and deposits only together, in one transaction (MonitorRepository), and only with a block
 * whose parentHash is the tip's hash; a head that does not extend the tip is a gap (fetch the
 * missing blocks in order) or a reorg (walk back by hash to the common ancestor, rewind to it,
 * orphaning what the dropped blocks held, then follow the new branch). Confirmations and completion
 * of pending deposits are a function of the committed cursor: a single new block leaves them to a
 * second transaction (`settle`, a task of its own woken by every such commit, so the block's
 * deposits are committed sooner and the next block's commit never waits for it: see
 * MonitorRepository's SETTLE_LOCK), a catch-up batch brings them to its last block in its own
 * transaction; `settle` also runs at start (a crash may have come between a block's commit and
 * its settle).
 */
export class ChainFollower {
  private readonly logger: Logger;
  private readonly headUnavailable: RepeatedWarning;
  private window: WindowBlock[] = [];
  private walletSeq = 0n;
  private tokens: WatchedToken[] = [];
  /** The newest head the node announced. */
  private target: BlockHead | undefined;
  /** Heads taken as the target so far: tells a head read whether another arrived meanwhile. */
  private headsSeen = 0;
  private unsubscribe: Unsubscribe | undefined;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The next catch-up batch, fetched while the current one commits. */
  private prefetched: { from: bigint; batch: Promise<ScannedBatch> } | undefined;
  /**
   * The network's settings changed at run time: pending deposits take its confirmation count.
   * True from start too: a change made while no process followed the network is applied then.
   */
  private settingsChanged = true;
  /** What this follower last recorded of `client.internalTransfers`. */
  private internalTransfers: boolean | undefined;
  private readonly syncTask: Task;
  private readonly backfillTask: Task;
  /**
   * Brings pending deposits' confirmations to the committed cursor (settleConfirmations): woken at
   * start (a crash may have come between a block's transaction and the settling one) and after
   * every commit that left them behind; a wake while it runs makes it run once more, at the
   * cursor committed by then.
   */
  private readonly settleTask: Task;
  /** Settle wakes so far: tells a finished settle whether a commit left more to settle meanwhile. */
  private settleWakes = 0;
  /**
   * Since when the pending deposits are behind the committed cursor without a settle finishing
   * (status()): blocks commit beside the settle, so a settle that keeps failing or waiting would
   * not show as a cursor behind its head while no deposit completes.
   */
  private unsettledSince: number | undefined;
  /** Since when the cursor is behind the announced head without a commit (status()). */
  private behindSince: number | undefined;
  /** Since when sync or the head read keeps failing (status()). */
  private failingSince: number | undefined;
  /**
   * The lower head the node answered as its latest, since when, and whether a wake-up for the
   * end of its grace is set (lowerHead).
   */
  private lowered: { hash: string; since: number; waking?: boolean } | undefined;

  constructor(
    readonly network: MonitoredNetwork,
    private readonly client: ChainClient,
    private readonly repository: MonitorRepository,
    private readonly watch: WatchSet,
    private readonly bus: EventBus,
    private readonly options: FollowerOptions,
    /** Called once when the follower cannot go on (its cursor was moved by another writer). */
    private readonly onFatal: (error: Error) => void,
  ) {
    this.logger = new Logger(`ChainFollower:${network.key}`);
    this.headUnavailable = new RepeatedWarning((message) => this.logger.warn(message));
    this.syncTask = new Task(
      () => this.sync(),
      (error) => this.failed('sync', error),
    );
    this.backfillTask = new Task(
      () => this.runBackfills(),
      (error) => this.failed('wallet backfill', error),
    );
    this.settleTask = new Task(
      () => this.settle(),
      (error) => this.failed('settle', error),
    );
  }

  status(now = Date.now()): FollowerStatus {
    const stall = this.options.stallTimeoutMs ?? 30_000;
    const since = (t: number | undefined) => t !== undefined && now - t > stall;
    return {
      head: this.target?.number,
      cursor: this.tip?.number,
      stalled:
        this.stopped || since(this.behindSince) || since(this.failingSince) || since(this.unsettledSince),
    };
  }

  /** The cursor (last processed block); undefined before start. */
  get tip(): WindowBlock | undefined {
    return this.window[this.window.length - 1];
  }

  async start(): Promise<void> {
    const state = await this.repository.loadState(this.network.id);
    this.window = state.window;
    this.walletSeq = state.walletSeq;
    if (this.window.length === 0) {
      // First start: follow from the current head, not from genesis. The head itself is scanned,
      // so the cursor starts at its parent. Wallets with a start_block get their own backfill.
      const head = await this.client.latestHead();
      const start = head.number === 0n ? head : await this.mustGetBlock(head.number - 1n);
      await this.repository.initCursor(this.network, toWindowBlock(start));
      this.window = [toWindowBlock(start)];
      this.logger.log(`First start: following from block ${start.number}`);
    } else {
      this.logger.log(`Resuming after block ${this.tip!.number}`);
    }
    this.options.observer?.cursor(this.tip!.number);
    this.unsubscribe = this.client.subscribeHeads({
      onHead: (head) => this.onHead(head),
      onReconnect: () => this.fetchHead(),
    });
    this.fetchHead();
    this.wakeSettle();
    this.backfillTask.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([this.syncTask.idle(), this.backfillTask.idle(), this.settleTask.idle()]);
  }

  /** New wallets may be watched: account for them (and their backfills) without waiting for a block. */
  walletsChanged(): void {
    this.syncTask.wake();
  }

  tokensChanged(): void {
    this.syncTask.wake();
  }

  /**
   * `network`'s required confirmations or finality rule were changed (the caller updated the
   * object): the next sync step applies them to the pending deposits, before the next block.
   */
  networkChanged(): void {
    this.settingsChanged = true;
    this.syncTask.wake();
  }

  private onHead(head: BlockHead): void {
    if (this.stopped) return;
    // Every head is news: higher, a lower/equal height under another hash (a reorg), or a lower block
    // we hold — a late announcement or a rollback to it, which sync tells apart by asking the node.
    if (head.hash === this.target?.hash) return;
    this.headsSeen++;
    this.options.metrics?.headSeen(this.network.key, head.number);
    this.target = head;
    this.options.observer?.head(head.number);
    if (head.hash !== this.tip?.hash) this.behindSince ??= Date.now();
    this.syncTask.wake();
  }

  private fetchHead(): void {
    if (this.stopped) return;
    const seen = this.headsSeen;
    this.client.latestHead().then(
      (head) => {
        this.headUnavailable.clear();
        // A head that arrived while this read was in flight is newer than its answer, unless the
        // answer is higher: at a restart the read (over HTTP while the socket opens) can answer
        // after the subscription pushed the next block, and must not pull the target back below it.
        const stale =
          this.headsSeen !== seen && this.target !== undefined && head.number <= this.target.number;
        if (!stale) this.onHead(head);
        // Lower than the head that arrived meanwhile: stale, or the node rolled back after it. Ask
        // again; with no head arriving during that read, its answer stands.
        else if (head.number < this.target!.number) this.fetchHead();
        // A failed read marked the follower failing; the same head again would not wake sync to clear it.
        if (this.failingSince !== undefined) this.syncTask.wake();
      },
      (error: unknown) => {
        this.failingSince ??= Date.now();
        this.headUnavailable.warn(`latest head unavailable: ${(error as Error).message}`);
        this.later(() => this.fetchHead(), RETRY_MAX_MS);
      },
    );
  }

  /** Brings the cursor to the target head, one step (block, batch or rewind) at a time. */
  private async sync(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      // The head is read before the watch set is refreshed: a wallet committed before that block
      // was announced is then always in the set the block is matched with. Tokens are re-read
      // before every step too (one small indexed query; NOTIFY may arrive after the block).
      const target = this.target;
      const tip = this.tip!;
      // The next block is read from the node meanwhile (reading it depends on nothing here;
      // matching depends on the watch set and comes after the refresh). The previous block's
      // confirmations settle in their own task (settleTask), beside this one.
      const next =
        target && target.number === tip.number + 1n && target.parentHash === tip.hash
          ? this.mustGetBlock(target.hash)
          : undefined;
      next?.catch(() => undefined); // awaited below; a refresh failing first must not leave it unhandled
      if (this.settingsChanged) await this.applySettings();
      const [, tokens] = await Promise.all([this.watch.refresh(), this.repository.tokens(this.network.id)]);
      const walletSeq = this.watch.version;
      this.tokens = tokens;
      if (target && target.number < tip.number && this.at(target.number)?.hash === target.hash) {
        // Not confirmed yet: sync runs again when the grace is over, or sooner for a new head.
        if (!(await this.lowerHead(target))) return;
        continue;
      }
      this.forgetLowered();
      if (!target || target.hash === tip.hash || this.at(target.number)?.hash === target.hash) {
        // Caught up: a failure reported since is over (the status leaves `error`, same cursor).
        if (this.failingSince !== undefined) this.options.observer?.cursor(tip.number);
        this.behindSince = this.failingSince = undefined;
        if (walletSeq > this.walletSeq) {
          const scheduled = await this.repository.syncWallets(this.network, tip, {
            seen: this.walletSeq,
            current: walletSeq,
          });
          this.walletSeq = walletSeq;
          if (scheduled) this.backfillTask.wake();
        }
        return;
      }
      if (target.number <= tip.number) {
        await this.reorg(target);
      } else if (next) {
        const block = await next;
        await this.commit([block], await this.scan([block]), walletSeq);
      } else {
        await this.catchUp(target, walletSeq);
      }
    }
  }

  /**
   * `head` is a block of the window below the tip: a late announcement, or the node rolled its
   * chain back to it (a reorg that has not mined a new block yet). The node's latest head tells:
   * when it is `head`, the blocks above it left the chain and their deposits are orphaned now, not
   * when the next block comes; otherwise the latest head is followed as usual.
   *
   * A load-balanced endpoint (one URL in front of several nodes) can answer from a node that lags
   * the one that announced our tip: for a moment its latest head is a lower block of our chain,
   * exactly like a rollback, and orphaning on that answer would drop deposits that are still on
   * the chain, only to find them again a block later. So a rollback is taken only when the node
   * answers `head` as its latest again `rollbackGraceMs` after it first did; a higher head
   * arriving meanwhile ends the wait (sync follows it, and a lag costs nothing). A node that stays
   * behind for longer than that is still taken for a rollback: the two cannot be told apart from
   * its answers. A real reorg seldom waits for this: its new branch arrives as a head that does not
   * extend the tip.
   *
   * Returns false while the rollback waits for its grace (sync is woken when it is over).
   */
  private async lowerHead(head: BlockHead): Promise<boolean> {
    const grace = this.options.rollbackGraceMs ?? 0;
    // Already answered as the latest and still within its grace: nothing to ask the node yet (a
    // wake for another reason, e.g. a wallet added, does not cost a read or another timer).
    if (this.lowered?.hash === head.hash && Date.now() - this.lowered.since < grace)
      return this.awaitGrace(grace);
    const latest = await this.client.latestHead();
    // A head that arrived during the read is newer than its answer: follow it (a real rollback
    // that mined a new branch meanwhile is a reorg from there).
    if (this.target !== head) {
      this.forgetLowered();
      return true;
    }
    const ours = this.at(head.number);
    if (latest.hash !== head.hash || !ours) {
      this.forgetLowered();
      this.target = latest;
      return true;
    }
    const now = Date.now();
    if (this.lowered?.hash !== head.hash) {
      this.forgetLowered();
      this.lowered = { hash: head.hash, since: now };
    }
    const waited = now - this.lowered.since;
    if (waited < grace) return this.awaitGrace(grace);
    this.forgetLowered();
    const tip = this.tip!;
    this.logger.warn(
      `Rollback: the node's head is block ${head.number} (${head.hash}), below tip ${tip.number}` +
        `${grace > 0 ? `, again after ${waited} ms` : ''}; dropping ${tip.number - head.number} block(s)`,
    );
    await this.rewindTo(ours);
    // The node's head is lower now: the status says so (its head only ever rises otherwise),
    // and a higher head announced during the rewind stays the one reported.
    this.options.observer?.rolledBack(head.number);
    if (this.target && this.target !== head) this.options.observer?.head(this.target.number);
    return true;
  }

  /**
   * Sync runs again when the lower head's grace is over (one wake-up, however often it is asked).
   * A wake-up left over after the lower head was forgotten only makes sync look once more.
   */
  private awaitGrace(grace: number): false {
    const lowered = this.lowered!;
    if (!lowered.waking) {
      lowered.waking = true;
      this.later(
        () => {
          lowered.waking = false;
          this.syncTask.wake();
        },
        // A timer may fire a millisecond early; the next look then schedules the rest.
        Math.max(1, grace - (Date.now() - lowered.since)),
      );
    }
    return false;
  }

  private forgetLowered(): void {
    this.lowered = undefined;
  }

  private async rewindTo(ancestor: WindowBlock): Promise<void> {
    this.prefetched = undefined;
    const tip = this.tip!;
    const events = await this.repository.rewind(this.network, tip, ancestor);
    this.options.metrics?.reorg(this.network.key, tip.number - ancestor.number);
    this.window = this.window.filter((b) => b.number <= ancestor.number);
    this.options.observer?.cursor(ancestor.number);
    this.publish(events);
  }

  /**
   * A gap: the blocks after the tip, by number, fetched and scanned in parallel and committed in
   * order. While one batch commits, the next one is already being fetched and scanned.
   */
  private async catchUp(target: BlockHead, walletSeq: bigint): Promise<void> {
    const tip = this.tip!;
    const from = tip.number + 1n;
    const to = min(target.number, tip.number + BigInt(this.options.backfillBatchSize));
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    const fresh = () => this.fetchAndScan(from, to, walletSeq);
    let batch = prefetched?.from === from ? await prefetched.batch.catch(fresh) : await fresh();
    // Prefetched blocks may predate a reorg: only fresh ones can tell us there was one.
    if (prefetched && batch.blocks[0].parentHash !== tip.hash) batch = await fresh();
    if (batch.blocks[0].parentHash !== tip.hash) {
      await this.reorg(batch.blocks[0]);
      return;
    }
    // The chain may have reorganised while we fetched: commit the linked prefix only.
    const { blocks } = batch;
    let linked = 1;
    while (linked < blocks.length && blocks[linked].parentHash === blocks[linked - 1].hash) linked++;
    const last = blocks[linked - 1];
    if (linked === blocks.length && last.number < target.number) {
      const nextFrom = last.number + 1n;
      const nextTo = min(target.number, last.number + BigInt(this.options.backfillBatchSize));
      // Scanned with the watch set as it is now: its seq is what that batch will record.
      const next = this.fetchAndScan(nextFrom, nextTo, this.watch.version);
      next.catch(() => undefined); // a failed prefetch is done again when it is needed
      this.prefetched = { from: nextFrom, batch: next };
    }
    // Catching up, the batch settles confirmations in its own transaction: one transaction per
    // batch instead of two (no block here is waiting to be announced as it is mined).
    const finalized = await this.finalizedNumber();
    await this.commit(
      blocks.slice(0, linked),
      batch.deposits.filter((d) => d.blockNumber <= last.number),
      batch.walletSeq,
      { finalized },
    );
  }

  private async fetchAndScan(from: bigint, to: bigint, walletSeq: bigint): Promise<ScannedBatch> {
    const numbers: bigint[] = [];
    for (let n = from; n <= to; n++) numbers.push(n);
    const blocks = await mapBounded(numbers, this.options.fetchConcurrency, (n) => this.mustGetBlock(n));
    return { blocks, deposits: await this.scan(blocks), walletSeq };
  }

  /** The deposits of `blocks` into watched addresses (the set as it is now). */
  private async scan(blocks: readonly ChainBlock[]): Promise<DetectedDeposit[]> {
    const tokens = this.tokens;
    const found = await mapBounded(blocks, this.options.fetchConcurrency, (block) =>
      detectDeposits(this.client, this.network, tokens, block, (a) => this.watch.has(a)),
    );
    return found.flat();
  }

  /**
   * Brings the pending deposits' confirmations and completion to the committed cursor (see
   * MonitorRepository.updateConfirmations for the invariant), in their own transaction.
   */
  private async settle(): Promise<void> {
    const wakes = this.settleWakes;
    const finalized = await this.finalizedNumber();
    if (this.stopped) return;
    const events = await this.repository.settleConfirmations(this.network, finalized);
    // Settled up to the cursor it read; a commit since then woke the task again (progress: the
    // stall clock restarts).
    this.unsettledSince = this.settleWakes === wakes ? undefined : Date.now();
    // A failed attempt marked the follower failing: on a quiet chain no commit clears that, so
    // sync runs once to (it finds itself caught up and clears it, as after a failed head read).
    if (this.failingSince !== undefined) this.syncTask.wake();
    this.publish(events);
  }

  private wakeSettle(): void {
    this.settleWakes++;
    this.unsettledSince ??= Date.now();
    this.settleTask.wake();
  }

  /** Pending deposits take the network's (changed) confirmation count, and settle by it. */
  private async applySettings(): Promise<void> {
    this.settingsChanged = false;
    try {
      const finalized = await this.finalizedNumber();
      if (this.stopped) return;
      this.publish(await this.repository.applyNetworkSettings(this.network, finalized));
    } catch (error) {
      this.settingsChanged = true;
      throw error;
    }
  }

  /**
   * `walletSeq`: the watch set version the deposits were matched with. `settle`: settle
   * confirmations in the same transaction (else the settle task does, in its own).
   */
  private async commit(
    blocks: ChainBlock[],
    deposits: DetectedDeposit[],
    walletSeq: bigint,
    settle?: { finalized: bigint | null },
  ): Promise<void> {
    if (this.stopped) return;
    const result = await this.repository.commitBlocks({
      network: this.network,
      expectedTip: this.tip!,
      blocks: blocks.map(toWindowBlock),
      deposits,
      windowSize: this.options.windowSize,
      walletSeq: { seen: this.walletSeq, current: walletSeq },
      settle,
    });
    this.window.push(...blocks.map(toWindowBlock));
    // windowSize blocks above the oldest one: a reorg of windowSize blocks finds its ancestor.
    const kept = this.options.windowSize + 1;
    if (this.window.length > kept) this.window.splice(0, this.window.length - kept);
    this.walletSeq = walletSeq;
    this.options.observer?.cursor(this.tip!.number);
    this.failingSince = undefined;
    if (this.behindSince !== undefined) this.behindSince = Date.now(); // progress: the stall clock restarts
    this.publish(result.events);
    // Settling is a function of the cursor over all pending deposits: done in the transaction, it
    // left nothing behind; else the settle task brings them to this cursor.
    if (settle === undefined) this.wakeSettle();
    if (result.backfillsScheduled) this.backfillTask.wake();
    const internal = this.client.internalTransfers;
    if (internal !== undefined && internal !== this.internalTransfers) {
      await this.repository.setInternalTransfers(this.network.id, internal);
      this.internalTransfers = internal;
    }
  }

  /**
   * `head` does not extend the tip. Walk back from it by parent hash until a block of the window
   * is its ancestor, rewind there (orphaning what the dropped blocks held), and let the next step
   * follow the new branch. Deeper than the window: rescan from before the window instead.
   */
  private async reorg(head: BlockHead): Promise<void> {
    this.prefetched = undefined;
    const tip = this.tip!;
    const first = this.window[0];
    let current = head;
    for (;;) {
      const parentNumber = current.number - 1n;
      const ours = this.at(parentNumber);
      if (ours && ours.hash === current.parentHash) {
        this.logger.warn(
          `Reorg: block ${head.number} (${head.hash}) does not extend tip ${tip.number}; ` +
            `common ancestor ${ours.number}, dropping ${tip.number - ours.number} block(s)`,
        );
        await this.rewindTo(ours);
        return;
      }
      if (parentNumber < first.number) break;
      current = await this.mustGetBlock(current.parentHash);
    }
    // No common ancestor within the window. Rescanning from before it (by number, from the node's
    // current chain) re-detects what is still there; commitBlocks orphans what each rescanned
    // height held under another hash. Loud, but no reason to stop.
    const from = max(0n, first.number - BigInt(this.options.windowSize));
    this.logger.error(
      `Reorg deeper than the window: head ${head.number} (${head.hash}) shares no block with the ` +
        `window ${first.number}..${tip.number} (MONITOR_WINDOW_SIZE=${this.options.windowSize}); ` +
        `rescanning from block ${from}`,
    );
    const restart = toWindowBlock(await this.mustGetBlock(from));
    // What was recorded above the restart block in blocks that are not on the node's chain any more
    // is orphaned with the reset, not height by height as the rescan passes them (the rescan may
    // find their transactions at other heights first, and a shorter chain never reaches them).
    const recorded = await this.repository.liveDepositBlocks(this.network.id, restart.number);
    const onChain = await mapBounded(recorded, this.options.fetchConcurrency, (b) =>
      this.client.blockHash(b.number),
    );
    const gone = recorded.filter((b, i) => onChain[i] !== b.hash);
    const events = await this.repository.resetWindow(this.network, tip, restart, gone);
    this.options.metrics?.reorg(this.network.key, tip.number - first.number + 1n); // at least that deep
    this.window = [restart];
    this.options.observer?.cursor(restart.number);
    this.publish(events);
  }

  /** History backfills of wallets with a start_block, one bounded batch at a time. */
  private async runBackfills(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const pending = await this.repository.pendingBackfills(this.network.id);
      if (pending.length === 0) return;
      await this.backfillStep(pending);
    }
  }

  /**
   * One step of the wallet backfills waiting (a queue: a wallet added while others run joins it):
   * the next `backfillBatchSize` blocks from the lowest one still to scan, each block read once and
   * matched against every waiting wallet whose range holds it — so wallets waiting on the same
   * range (one user adding many, or many users) cost the node one scan of it, not one each.
   */
  private async backfillStep(pending: readonly PendingBackfill[]): Promise<void> {
    const tokens = await this.repository.tokens(this.network.id);
    const from = pending.reduce((low, b) => min(low, b.nextBlock), pending[0].nextBlock);
    const until = from + BigInt(this.options.backfillBatchSize) - 1n;
    const step = pending.filter((b) => b.nextBlock <= until);
    const numbers: bigint[] = [];
    for (let n = from; n <= until; n++) {
      if (step.some((b) => b.nextBlock <= n && n <= b.endBlock)) numbers.push(n);
    }
    const scanned = await mapBounded(numbers, this.options.fetchConcurrency, async (n) => {
      const block = await this.mustGetBlock(n);
      const waiting = new Set(
        step.filter((b) => b.nextBlock <= n && n <= b.endBlock).map((b) => b.address.toLowerCase()),
      );
      const deposits = await detectDeposits(this.client, this.network, tokens, block, (a) =>
        waiting.has(a.toLowerCase()),
      );
      return { block, deposits };
    });
    const finalized = await this.finalizedNumber();
    if (this.stopped) return;
    const result = await this.repository.commitBackfill({
      network: this.network,
      steps: step.map((backfill) => ({ backfill, next: min(until, backfill.endBlock) + 1n })),
      blocks: scanned.map((s) => ({ number: s.block.number, hash: s.block.hash })),
      deposits: scanned.flatMap((s) => s.deposits),
      finalized,
    });
    // Not committed: a scanned block is no longer the window's (a reorg the follower is handling).
    if (!result.committed) throw new Error(`wallet backfill of blocks ${from}..${until} raced a reorg`);
    for (const b of step) {
      if (b.endBlock <= until) this.logger.log(`Wallet backfill of ${b.address} done up to ${b.endBlock}`);
    }
    this.publish(result.events);
  }

  private async finalizedNumber(): Promise<bigint | null> {
    if (this.network.finalityRule !== 'finalized') return null;
    return (await this.client.finalizedHead())?.number ?? null;
  }

  private async mustGetBlock(ref: bigint | `0x${string}`): Promise<ChainBlock> {
    const block = await this.client.blockWithTransactions(ref);
    if (!block) throw new Error(`the node does not have block ${ref}`);
    return block;
  }

  private at(number: bigint): WindowBlock | undefined {
    const first = this.window[0];
    if (!first || number < first.number) return undefined;
    const block = this.window[Number(number - first.number)];
    return block?.number === number ? block : undefined;
  }

  private publish(events: LoggedEvent[]): void {
    if (events.length > 0) this.bus.publish(events);
  }

  private failed(what: string, error: unknown): number | undefined {
    if (this.stopped) return undefined;
    if (error instanceof CursorMovedError) {
      this.logger.error(`${error.message}: stopping`);
      this.stopped = true;
      this.onFatal(error);
      return undefined;
    }
    this.failingSince ??= Date.now();
    this.logger.warn(`${what} failed, retrying: ${(error as Error).message}`);
    this.options.observer?.failed(`${what} failed: ${(error as Error).message}`);
    return 0;
  }

  private later(run: () => void, ms: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }
}

/**
 * Runs `work` one at a time: a wake while it runs schedules one more run. When `work` throws,
 * `onError` says whether to retry (a number) or give up (undefined); retries back off.
 */
class Task {
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly onError: (error: unknown) => number | undefined,
  ) {}

  wake(): void {
    if (this.closed) return;
    this.again = true;
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  /** Stops retrying and resolves when the current run is over. */
  async idle(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private async loop(): Promise<void> {
    while (this.again && !this.closed) {
      this.again = false;
      try {
        await this.work();
        this.failures = 0;
      } catch (error) {
        if (this.onError(error) === undefined) {
          this.closed = true;
          return;
        }
        this.failures++;
        const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (this.failures - 1));
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.wake();
        }, delay);
        return;
      }
    }
  }
}

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
