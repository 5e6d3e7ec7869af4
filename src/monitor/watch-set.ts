import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { AddressSet } from './address-set.js';

/**
 * The watched addresses of this process (every wallet's address, on every network), in memory for
 * O(1) matching.
 *
 * Invariant: the set holds every wallet whose `watch_seq` ≤ `version` (seq order is commit order,
 * see the Monitor migration), plus possibly a few deleted ones not yet removed. `refresh()` before
 * a block is matched makes a wallet committed before that call part of the match.
 */
@Injectable()
export class WatchSet {
  private readonly logger = new Logger(WatchSet.name);
  private set = new AddressSet();
  private seq = 0n;
  /** Refreshes run one after another: each one's query starts after its call. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dataSource: DataSource) {}

  get version(): bigint {
    return this.seq;
  }

  get size(): number {
    return this.set.size;
  }

  has(address: string): boolean {
    return this.set.has(address);
  }

  /** Loads every wallet afresh (at start and whenever change notifications may have been lost). */
  reloadAll(): Promise<void> {
    return this.enqueue(async () => {
      const rows: { address: string; watch_seq: string }[] = await this.dataSource.query(
        `SELECT address, watch_seq::text AS watch_seq FROM wallets`,
      );
      const next = new AddressSet(rows.length);
      // Never lower: the newest wallets may have been deleted since they were seen.
      let seq = this.seq;
      for (const row of rows) {
        next.add(row.address);
        const rowSeq = BigInt(row.watch_seq);
        if (rowSeq > seq) seq = rowSeq;
      }
      this.set = next;
      this.seq = seq;
      this.logger.log(`Watching ${next.size} addresses`);
    });
  }

  /** Adds the wallets committed since the last load; cheap (an index range scan, usually empty). */
  refresh(): Promise<void> {
    return this.enqueue(async () => {
      const rows: { address: string; watch_seq: string }[] = await this.dataSource.query(
        `SELECT address, watch_seq::text AS watch_seq FROM wallets WHERE watch_seq > $1 ORDER BY wallets.watch_seq`,
        [this.seq.toString()],
      );
      for (const row of rows) {
        this.set.add(row.address);
        const rowSeq = BigInt(row.watch_seq);
        if (rowSeq > this.seq) this.seq = rowSeq;
      }
    });
  }

  /** A wallet row was deleted: stop watching its address unless another wallet still has it. */
  removeIfUnwatched(address: string): Promise<void> {
    return this.enqueue(async () => {
      const [row] = await this.dataSource.query<{ watched: boolean }[]>(
        `SELECT EXISTS (SELECT 1 FROM wallets WHERE address = $1) AS watched`,
        [address.toLowerCase()],
      );
      if (row && !row.watched) this.set.delete(address);
    });
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
