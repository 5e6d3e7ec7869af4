/**
 * Recent fresh prices of one symbol, oldest first (a deque: an array with a moving head), kept
 * just long enough for the longest percent-change window.
 *
 * Invariant: times are non-decreasing, and exactly one kept entry is at or before
 * `latest − retainMs` (when any is): the reference price of the longest window.
 */
export class PriceWindow {
  private times: number[] = [];
  private prices: bigint[] = [];
  private head = 0;

  get length(): number {
    return this.times.length - this.head;
  }

  push(timeMs: number, price: bigint, retainMs: number): void {
    this.times.push(timeMs);
    this.prices.push(price);
    const cutoff = timeMs - retainMs;
    while (this.times.length - this.head > 1 && this.times[this.head + 1] <= cutoff) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.prices = this.prices.slice(this.head);
      this.head = 0;
    }
  }

  /** The latest price at or before `timeMs` if it is not older than `oldestMs` (binary search). */
  priceAt(timeMs: number, oldestMs: number): bigint | undefined {
    let lo = this.head;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] <= timeMs) lo = mid + 1;
      else hi = mid;
    }
    const index = lo - 1;
    if (index < this.head || this.times[index] < oldestMs) return undefined;
    return this.prices[index];
  }
}
