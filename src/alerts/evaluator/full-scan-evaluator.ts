import { percentChange } from '../decimal.js';
import type { PriceTick } from '../feed/price-feed.js';
import { PriceWindow } from './price-window.js';
import { type RuleEntry, type RuleSpec, type TickResult, toEntry } from './rule.js';

/**
 * The reference semantics, by brute force: every rule of the symbol is checked on every tick.
 * Not used by the service; the benchmark measures the index against it, and the tests check that
 * both fire exactly the same rules.
 */
export class FullScanEvaluator {
  /** Per symbol, by id (a Map iterates in insertion order). */
  private readonly bySymbol = new Map<string, Map<string, RuleEntry>>();
  private readonly history = new Map<string, PriceWindow>();
  private readonly lastTime = new Map<string, number>();
  private readonly maxWindowMs = new Map<string, number>();

  constructor(private readonly staleMs: number) {}

  upsert(spec: RuleSpec): void {
    const rules = this.bySymbol.get(spec.symbol) ?? new Map<string, RuleEntry>();
    this.bySymbol.set(spec.symbol, rules);
    rules.delete(spec.id);
    rules.set(spec.id, toEntry(spec));
    if (spec.windowSeconds !== null) {
      const longest = Math.max(this.maxWindowMs.get(spec.symbol) ?? 0, spec.windowSeconds * 1000);
      this.maxWindowMs.set(spec.symbol, longest);
    }
  }

  evaluate(tick: PriceTick, nowMs: number = Date.now()): TickResult {
    const result: TickResult = { fired: [], changed: [] };
    const rules = this.bySymbol.get(tick.symbol);
    const last = this.lastTime.get(tick.symbol) ?? Number.NEGATIVE_INFINITY;
    if (!rules || nowMs - tick.timeMs > this.staleMs || tick.timeMs < last) return result;
    this.lastTime.set(tick.symbol, tick.timeMs);

    let window = this.history.get(tick.symbol);
    const maxWindowMs = this.maxWindowMs.get(tick.symbol) ?? 0;
    if (maxWindowMs > 0) {
      window ??= new PriceWindow();
      this.history.set(tick.symbol, window);
      window.push(tick.timeMs, tick.price, maxWindowMs);
    }

    for (const rule of rules.values()) {
      let inCondition: boolean;
      switch (rule.condition) {
        case 'above':
        case 'crosses_up':
          inCondition = tick.price >= rule.threshold;
          break;
        case 'below':
        case 'crosses_down':
          inCondition = tick.price <= rule.threshold;
          break;
        case 'pct_change': {
          const cutoff = tick.timeMs - rule.windowSeconds! * 1000;
          const reference = window!.priceAt(cutoff, cutoff - this.staleMs);
          if (reference === undefined) continue;
          const change = percentChange(reference, tick.price);
          inCondition = rule.threshold >= 0n ? change.floor >= rule.threshold : change.ceil <= rule.threshold;
          break;
        }
      }
      if (rule.armed && inCondition) {
        rule.armed = false;
        result.changed.push(rule);
        if (nowMs - rule.lastFiredAtMs < rule.cooldownMs) continue;
        rule.lastFiredAtMs = nowMs;
        result.fired.push({ rule, price: tick.priceText, priceTimeMs: tick.timeMs, firedAtMs: nowMs });
      } else if (!rule.armed && !inCondition) {
        rule.armed = true;
        result.changed.push(rule);
      }
    }
    return result;
  }
}
