import { percentChange } from '../decimal.js';
import type { PriceTick } from '../feed/price-feed.js';
import { PriceWindow } from './price-window.js';
import { directionOf, type Firing, type RuleEntry, type RuleSpec, type TickResult, toEntry } from './rule.js';
import { type BookSink, ThresholdBook } from './threshold-book.js';

class WindowGroup {
  /** Rises (threshold ≥ 0, key = change rounded down) and falls (threshold < 0, key = −change rounded up). */
  readonly rise = new ThresholdBook();
  readonly fall = new ThresholdBook();
  constructor(readonly windowMs: number) {}
  get size(): number {
    return this.rise.size + this.fall.size;
  }
}

class SymbolBook {
  /** above / crosses_up: key = price. */
  readonly up = new ThresholdBook();
  /** below / crosses_down: key = −price (ranks are −threshold). */
  readonly down = new ThresholdBook();
  readonly windows = new Map<number, WindowGroup>();
  readonly history = new PriceWindow();
  maxWindowMs = 0;
  lastTimeMs = Number.NEGATIVE_INFINITY;

  bookOf(rule: RuleEntry, create: boolean): ThresholdBook | undefined {
    const up = directionOf(rule.condition, rule.threshold) === 'up';
    if (rule.condition !== 'pct_change') return up ? this.up : this.down;
    const windowMs = rule.windowSeconds! * 1000;
    let group = this.windows.get(windowMs);
    if (!group && create) {
      group = new WindowGroup(windowMs);
      this.windows.set(windowMs, group);
      this.maxWindowMs = Math.max(this.maxWindowMs, windowMs);
    }
    return group && (up ? group.rise : group.fall);
  }

  dropEmptyWindow(windowSeconds: number): void {
    const group = this.windows.get(windowSeconds * 1000);
    if (group?.size !== 0) return;
    this.windows.delete(group.windowMs);
    this.maxWindowMs = Math.max(0, ...[...this.windows.keys()]);
  }
}

/**
 * Evaluates every active rule in memory on each price, indexed per symbol (see ThresholdBook).
 *
 * Semantics, kept here:
 * - A rule fires on the transition into its condition (armed → in condition), then stays
 *   disarmed until a fresh price is outside its condition again; holding the condition never
 *   fires twice.
 * - A transition inside the cooldown (since the rule last fired) is consumed without a firing: the
 *   rule disarms and must leave and re-enter its condition after the cooldown to fire again.
 * - A price older than `staleMs` (by its exchange time) or older than the last one seen for its
 *   symbol changes nothing: no firing, no re-arming.
 * - pct_change compares the price with the latest fresh price at or before `now − window` (not
 *   older than that by more than `staleMs`); until such a price exists (warm-up) it does not fire.
 * The evaluator is synchronous and single-threaded: its state is the in-memory truth, persisted
 * by the dispatcher (armed flags) from `TickResult.changed`.
 */
export class AlertEvaluator {
  private readonly books = new Map<string, SymbolBook>();
  private readonly rules = new Map<string, RuleEntry>();

  constructor(private readonly staleMs: number) {}

  get size(): number {
    return this.rules.size;
  }

  get(id: string): RuleEntry | undefined {
    return this.rules.get(id);
  }

  /** Adds a rule, or replaces the one with its id (it is placed by the next fresh tick). */
  upsert(spec: RuleSpec): RuleEntry {
    this.remove(spec.id);
    const rule = toEntry(spec);
    let book = this.books.get(rule.symbol);
    if (!book) {
      book = new SymbolBook();
      this.books.set(rule.symbol, book);
    }
    book.bookOf(rule, true)!.add(rule);
    this.rules.set(rule.id, rule);
    return rule;
  }

  remove(id: string): boolean {
    const rule = this.rules.get(id);
    if (!rule) return false;
    const book = this.books.get(rule.symbol)!;
    book.bookOf(rule, false)?.remove(rule);
    if (rule.windowSeconds !== null) book.dropEmptyWindow(rule.windowSeconds);
    this.rules.delete(id);
    return true;
  }

  setCooldown(id: string, cooldownSeconds: number): void {
    const rule = this.rules.get(id);
    if (rule) rule.cooldownMs = cooldownSeconds * 1000;
  }

  isFresh(tick: PriceTick, nowMs: number): boolean {
    return nowMs - tick.timeMs <= this.staleMs;
  }

  evaluate(tick: PriceTick, nowMs: number = Date.now()): TickResult {
    const result: TickResult = { fired: [], changed: [] };
    const book = this.books.get(tick.symbol);
    if (!book || !this.isFresh(tick, nowMs) || tick.timeMs < book.lastTimeMs) return result;
    book.lastTimeMs = tick.timeMs;

    const sink: BookSink = {
      changed: (rule) => result.changed.push(rule),
      fire: (rule) => {
        result.changed.push(rule);
        // Cooldown: the transition is consumed, not notified.
        if (nowMs - rule.lastFiredAtMs < rule.cooldownMs) return;
        rule.lastFiredAtMs = nowMs;
        result.fired.push({ rule, price: tick.priceText, priceTimeMs: tick.timeMs, firedAtMs: nowMs });
      },
    };
    book.up.apply(tick.price, sink);
    book.down.apply(-tick.price, sink);

    if (book.windows.size > 0) {
      book.history.push(tick.timeMs, tick.price, book.maxWindowMs);
      for (const group of book.windows.values()) {
        const cutoff = tick.timeMs - group.windowMs;
        const reference = book.history.priceAt(cutoff, cutoff - this.staleMs);
        if (reference === undefined) continue;
        const change = percentChange(reference, tick.price);
        group.rise.apply(change.floor, sink);
        group.fall.apply(-change.ceil, sink);
      }
    }
    return result;
  }
}

export type { Firing, RuleSpec, TickResult };
