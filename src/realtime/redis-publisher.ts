import type { Logger } from '@nestjs/common';

/** The one command we need from a node-redis client (the adapter's and the emitter's `publish`). */
export interface RedisPublishClient {
  publish(channel: string, message: Buffer): Promise<number>;
}

/** Publishes sent in one go (node-redis pipelines them on its connection). */
const BATCH = 1000;
const RETRY_MAX_MS = 5_000;

/**
 * One ordered, retrying stream of PUBLISHes, shared by the Redis adapter and the Redis emitter.
 *
 * - Order: a batch is written only when the previous one has been answered, and a failed publish
 *   is retried before anything behind it, so other processes get a room's events in issue order.
 * - Failures: node-redis keeps commands issued while it reconnects (its offline queue) but rejects
 *   the ones in flight when the connection breaks — a suffix of the batch; those are sent again
 *   (events are committed; clients connected throughout would otherwise miss them live). One whose
 *   reply was lost may arrive twice: clients dedupe by `event_id`, as with a retried NOTIFY.
 * - It never rejects: the official packages do not catch their `publish` promise, and an
 *   unhandled rejection would end the process.
 */
export class OrderedRedisPublisher {
  private queue: { channel: string; message: Buffer }[] = [];
  private running = false;
  private drainWaiters: (() => void)[] = [];
  private closing = false;

  constructor(
    private readonly client: RedisPublishClient,
    private readonly logger: Logger,
  ) {}

  publish(channel: string, message: Buffer): Promise<number> {
    this.queue.push({ channel, message });
    if (!this.running) void this.pump();
    return Promise.resolve(0);
  }

  /** Resolves when every publish issued so far has been answered (or dropped at shutdown). */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Stop retrying failed publishes (the process is stopping). */
  close(): void {
    this.closing = true;
  }

  private async pump(): Promise<void> {
    this.running = true;
    let attempt = 0;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, BATCH);
      const results = await Promise.allSettled(batch.map((m) => this.client.publish(m.channel, m.message)));
      const failedAt = results.findIndex((r) => r.status === 'rejected');
      if (failedAt < 0 || this.closing) {
        if (failedAt >= 0) {
          this.logger.error(
            `redis publish dropped at shutdown: ${String((results[failedAt] as PromiseRejectedResult).reason)}`,
          );
        }
        this.queue.splice(0, batch.length);
        attempt = 0;
        continue;
      }
      this.queue.splice(0, failedAt);
      if (++attempt === 1) {
        this.logger.warn(
          `redis publish failed, retrying: ${String((results[failedAt] as PromiseRejectedResult).reason)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MAX_MS, 50 * 2 ** attempt)));
    }
    this.running = false;
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}
