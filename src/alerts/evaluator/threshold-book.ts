import { Place, type RuleEntry } from './rule.js';

const byRankAsc = (a: RuleEntry, b: RuleEntry): number => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0);
const byRankDesc = (a: RuleEntry, b: RuleEntry): number => byRankAsc(b, a);

/** Receives the outcome of a move into the condition (the evaluator applies cooldown). */
export interface BookSink {
  fire(rule: RuleEntry): void;
  changed(rule: RuleEntry): void;
}

/** Above this many rules waiting, a tick re-sorts the whole book instead of splicing each one in. */
const REBUILD_PENDING = 256;

/**
 * The rules of one symbol (or one percent-change window) for one direction, where a rule is in its
 * condition when `rank ≤ key` (the evaluator orients ranks and keys so this covers ≥ and ≤ alike).
 *
 * Invariant, true after every `apply(key)`: `armed` holds exactly the placed rules with
 * rank > key, `disarmed` exactly those with rank ≤ key — one sorted order split at the last key.
 * `armed` is sorted descending (its end is the next to fire), `disarmed` ascending (its end is the
 * next to re-arm). So a new key only moves the rules between the old key and the new one, popped
 * from one end and pushed on the other, and both arrays stay sorted: a tick costs O(moved), with
 * no scan. Rules created, loaded or edited since the last tick wait in `pending`, carrying their
 * persisted armed state, and are placed by the next tick (binary search + splice each, or one
 * sort when many wait, e.g. right after start).
 */
export class ThresholdBook {
  private armed: RuleEntry[] = [];
  private disarmed: RuleEntry[] = [];
  private pending: RuleEntry[] = [];

  get size(): number {
    return this.armed.length + this.disarmed.length + this.pending.length;
  }

  add(rule: RuleEntry): void {
    rule.place = Place.Pending;
    this.pending.push(rule);
  }

  remove(rule: RuleEntry): void {
    const list =
      rule.place === Place.Pending ? this.pending : rule.place === Place.Armed ? this.armed : this.disarmed;
    const index = rule.place === Place.Pending ? list.indexOf(rule) : this.indexOf(list, rule);
    if (index >= 0) list.splice(index, 1);
    rule.place = Place.Removed;
  }

  apply(key: bigint, sink: BookSink): void {
    const { armed, disarmed } = this;
    // The key fell: rules now out of their condition re-arm (largest rank first).
    while (disarmed.length > 0 && disarmed[disarmed.length - 1].rank > key) {
      const rule = disarmed.pop()!;
      rule.armed = true;
      rule.place = Place.Armed;
      armed.push(rule);
      sink.changed(rule);
    }
    // The key rose: armed rules now in their condition fire (smallest rank first).
    while (armed.length > 0 && armed[armed.length - 1].rank <= key) {
      const rule = armed.pop()!;
      rule.armed = false;
      rule.place = Place.Disarmed;
      disarmed.push(rule);
      sink.fire(rule);
    }
    if (this.pending.length > 0) this.placePending(key, sink);
  }

  private placePending(key: bigint, sink: BookSink): void {
    const waiting = this.pending;
    this.pending = [];
    const rebuild = waiting.length > REBUILD_PENDING;
    for (const rule of waiting) {
      const inCondition = rule.rank <= key;
      if (inCondition && rule.armed) {
        rule.armed = false;
        sink.fire(rule);
      } else if (!inCondition && !rule.armed) {
        rule.armed = true;
        sink.changed(rule);
      }
      rule.place = rule.armed ? Place.Armed : Place.Disarmed;
      const list = rule.armed ? this.armed : this.disarmed;
      if (rebuild) list.push(rule);
      else list.splice(this.insertionIndex(list, rule), 0, rule);
    }
    if (rebuild) {
      this.armed.sort(byRankDesc);
      this.disarmed.sort(byRankAsc);
    }
  }

  /** Where `rule` goes in `list` (armed: descending, disarmed: ascending) — binary search. */
  private insertionIndex(list: RuleEntry[], rule: RuleEntry): number {
    const descending = list === this.armed;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const before = descending ? list[mid].rank > rule.rank : list[mid].rank < rule.rank;
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(list: RuleEntry[], rule: RuleEntry): number {
    for (let i = this.insertionIndex(list, rule); i < list.length && list[i].rank === rule.rank; i++) {
      if (list[i] === rule) return i;
    }
    return list.indexOf(rule);
  }
}
