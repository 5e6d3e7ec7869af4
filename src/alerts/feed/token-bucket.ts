/**
 * A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`. In any window of
 * one second at most `capacity + refillPerSecond` tokens can be taken, which is how the feed keeps
 * under the exchange's limit of 5 outbound messages a second (capacity 1 + 4/s = 5).
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (capacity < 1 || refillPerSecond <= 0)
      throw new Error('TokenBucket needs capacity ≥ 1 and a positive rate');
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Worst case in any one-second window. */
  get maxPerSecond(): number {
    return this.capacity + this.refillPerSecond;
  }

  private refill(): void {
    const now = this.now();
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.refillPerSecond) / 1000);
    this.updatedAt = now;
  }

  /** Takes a token if one is available. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 when one is). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.refillPerSecond);
  }
}

/**
 * Every outbound frame goes through here: frames are sent in order, each only when the bucket
 * gives a token; the rest wait on one timer (never a busy loop). A bounded queue: when it is full
 * the oldest waiting frame is dropped (a late pong is worth less than a fresh one).
 */
export class RateLimitedSender {
  private readonly queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  sent = 0;
  dropped = 0;

  constructor(
    private readonly bucket: TokenBucket,
    private readonly maxQueued = 32,
  ) {}

  send(frame: () => void): void {
    if (this.queue.length >= this.maxQueued) {
      this.queue.shift();
      this.dropped += 1;
    }
    this.queue.push(frame);
    this.drain();
  }

  /** Forgets waiting frames (their connection is gone). */
  clear(): void {
    this.queue.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get waiting(): number {
    return this.queue.length;
  }

  private drain(): void {
    if (this.timer !== undefined) return;
    while (this.queue.length > 0 && this.bucket.tryTake()) {
      this.sent += 1;
      this.queue.shift()!();
    }
    if (this.queue.length > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, this.bucket.msUntilToken());
      this.timer.unref();
    }
  }
}
