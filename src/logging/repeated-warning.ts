export interface RepeatedWarningOptions {
  /** Quiet period after the first line; doubles after each line up to `maxIntervalMs`. */
  firstIntervalMs?: number;
  maxIntervalMs?: number;
  now?: () => number;
}

/**
 * A warning that repeats while a condition lasts (the exchange unreachable, a node down): logged
 * the first time, then at most once per interval — the interval doubling each time, up to a cap —
 * with the count of occurrences it stood for. `clear()` when the condition ends: the next
 * occurrence is logged at once again.
 */
export class RepeatedWarning {
  private readonly firstIntervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly now: () => number;
  private intervalMs: number;
  private lastLoggedAt: number | undefined;
  private suppressed = 0;

  constructor(
    private readonly log: (message: string) => void,
    options: RepeatedWarningOptions = {},
  ) {
    this.firstIntervalMs = options.firstIntervalMs ?? 10_000;
    this.maxIntervalMs = options.maxIntervalMs ?? 15 * 60_000;
    this.now = options.now ?? Date.now;
    this.intervalMs = this.firstIntervalMs;
  }

  /** Returns whether this occurrence was logged. */
  warn(message: string): boolean {
    const now = this.now();
    if (this.lastLoggedAt !== undefined && now - this.lastLoggedAt < this.intervalMs) {
      this.suppressed++;
      return false;
    }
    const repeated = this.suppressed + 1;
    this.log(
      this.lastLoggedAt === undefined
        ? message
        : `${message} (${repeated} times in the last ${Math.round((now - this.lastLoggedAt) / 1000)} s)`,
    );
    if (this.lastLoggedAt !== undefined) this.intervalMs = Math.min(this.maxIntervalMs, this.intervalMs * 2);
    this.lastLoggedAt = now;
    this.suppressed = 0;
    return true;
  }

  /** The condition is over; returns how many occurrences since the last line went unlogged. */
  clear(): number {
    const suppressed = this.suppressed;
    this.lastLoggedAt = undefined;
    this.suppressed = 0;
    this.intervalMs = this.firstIntervalMs;
    return suppressed;
  }
}
