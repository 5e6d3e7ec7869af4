import type { Logger } from '@nestjs/common';

import { Signal } from './signal.js';

/** How often a retention runs (and once at start); sooner again after a failure. */
const INTERVAL_MS = 3_600_000;
const RETRY_MS = 60_000;
/** Between two full batches: the deletes' writes spread out instead of one burst. */
const PAUSE_MS = 100;

export interface Retention {
  /** Rows deleted per statement. */
  readonly batch: number;
  /** Starts one run: returns the step that deletes the next batch (how many it deleted). */
  begin(): Promise<(limit: number) => Promise<number>>;
  /** The log line after a run that deleted something. */
  describe(deleted: number): string;
  /** Names the retention in the line logged when a run fails. */
  readonly name: string;
}

/**
 * Runs a retention at start, then hourly: batch after batch until one deletes fewer than a full
 * batch, with a short pause between full ones; a failed run is tried again after a minute. Every
 * process may run the same retention: its statements keep concurrent runs from deleting a row
 * twice (each retention says how).
 */
export class RetentionLoop {
  private stopped = false;
  private readonly signal = new Signal();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly retention: Retention,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signal.notify();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { batch } = this.retention;
    while (!this.stopped) {
      let deleted = 0;
      let failed = false;
      try {
        const step = await this.retention.begin();
        while (!this.stopped) {
          const n = await step(batch);
          deleted += n;
          if (n < batch) break;
          await this.signal.wait(PAUSE_MS);
        }
      } catch (error) {
        failed = true;
        this.logger.error(`${this.retention.name} failed: ${(error as Error).message}`);
      }
      if (deleted > 0) this.logger.log(this.retention.describe(deleted));
      if (!this.stopped) await this.signal.wait(failed ? RETRY_MS : INTERVAL_MS);
    }
  }
}
