import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

/** What the leader of a network stores in `network_status` (see migrations/…-NetworkStatus.ts). */
export type ReportedState = 'following' | 'error' | 'no_endpoint';

/** What a ChainFollower tells about its progress (FollowerOptions.observer). */
export interface FollowerObserver {
  /** The node announced this head (a lower one than already reported is late, and ignored). */
  head(number: bigint): void;
  /** The node rolled its chain back: its head is this block, lower than reported before. */
  rolledBack(number: bigint): void;
  /** The cursor moved to this block (committed). */
  cursor(number: bigint): void;
  /** A step failed and will be retried. */
  failed(message: string): void;
}

interface Snapshot {
  state: ReportedState;
  head: bigint | null;
  cursor: bigint | null;
  lastBlockAt: Date | null;
  error: string | null;
}

/**
 * A FROM item that makes the statement's own transaction commit without waiting for its WAL to
 * reach the disk (`synchronous_commit = off` for that transaction only: set_config's local form
 * ends with it). A status row is rewritten on every head and at start, so losing the last ones in
 * a crash costs nothing; waiting for its flush cost two WAL flushes a block beside the block's own
 * transactions (no measurable latency with this machine's 0.1 ms fsync, more where a flush is
 * slow; docs/monitor.md, "New WAL segments").
 */
const ASYNC_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`;

/** The status row's write: $1 network id, $2 state, $3 head, $4 cursor, $5 last block at, $6 error. */
export const STATUS_UPSERT = `
  INSERT INTO network_status (network_id, state, head_block, cursor_block, last_block_at, error, updated_at)
  SELECT $1, $2, $3, $4, $5, $6, now() FROM ${ASYNC_COMMIT}
  ON CONFLICT (network_id) DO UPDATE
     SET state = EXCLUDED.state, head_block = coalesce(EXCLUDED.head_block, network_status.head_block),
         cursor_block = coalesce(EXCLUDED.cursor_block, network_status.cursor_block),
         last_block_at = coalesce(EXCLUDED.last_block_at, network_status.last_block_at),
         error = EXCLUDED.error, updated_at = now()`;

/**
 * Writes one network's row of `network_status` for the process that leads it. Off the follower's
 * path: a report only changes the in-memory snapshot, and the latest snapshot is written by one
 * upsert at a time (reports made while a write runs are coalesced into the next one), so a block's
 * detection never waits for it and a slow database only makes the status later, not the monitor.
 */
export class NetworkStatusReporter implements FollowerObserver {
  private readonly logger: Logger;
  private snapshot: Snapshot = {
    state: 'following',
    head: null,
    cursor: null,
    lastBlockAt: null,
    error: null,
  };
  private dirty = false;
  private writing: Promise<void> | undefined;
  private warned = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly networkId: string,
    networkKey: string,
  ) {
    this.logger = new Logger(`NetworkStatus:${networkKey}`);
  }

  head(number: bigint): void {
    if (this.snapshot.head !== null && number <= this.snapshot.head) return;
    this.update({ head: number });
  }

  rolledBack(number: bigint): void {
    this.update({ head: number });
  }

  cursor(number: bigint): void {
    const { head } = this.snapshot;
    this.update({
      state: 'following',
      cursor: number,
      head: head === null || head < number ? number : head,
      lastBlockAt: number !== this.snapshot.cursor ? new Date() : this.snapshot.lastBlockAt,
      error: null,
    });
  }

  failed(message: string): void {
    this.update({ state: 'error', error: message });
  }

  /** Not followed from this process: no endpoint, or one serving another chain (`error`). */
  notFollowed(state: Exclude<ReportedState, 'following'>, error: string): void {
    this.update({ state, error });
  }

  /** Resolves when what was reported so far is written. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private update(patch: Partial<Snapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    this.dirty = true;
    this.writing ??= this.writeLoop().finally(() => (this.writing = undefined));
  }

  private async writeLoop(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      const s = this.snapshot;
      try {
        await this.dataSource.query(STATUS_UPSERT, [
          this.networkId,
          s.state,
          s.head?.toString() ?? null,
          s.cursor?.toString() ?? null,
          s.lastBlockAt,
          s.error,
        ]);
        this.warned = false;
      } catch (error) {
        // The status is best effort; the next report writes the latest snapshot again.
        if (!this.warned) this.logger.warn(`writing the network status failed: ${(error as Error).message}`);
        this.warned = true;
        return;
      }
    }
  }
}
