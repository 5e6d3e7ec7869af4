import { toScaled } from '../../src/alerts/decimal.js';
import { AlertEvaluator } from '../../src/alerts/evaluator/alert-evaluator.js';
import { FullScanEvaluator } from '../../src/alerts/evaluator/full-scan-evaluator.js';
import { type AlertCondition, initialArmed, type RuleSpec } from '../../src/alerts/evaluator/rule.js';
import type { PriceTick } from '../../src/alerts/feed/price-feed.js';
import { seededRandom } from '../helpers/random.js';

const STALE_MS = 60_000;
const T0 = 1_800_000_000_000;

const tick = (price: string, timeMs: number, symbol = 'BTCUSDT'): PriceTick => ({
  symbol,
  price: toScaled(price),
  priceText: price,
  timeMs,
  receivedAtMs: timeMs,
});

let seq = 0;
const rule = (condition: AlertCondition, threshold: string, extra: Partial<RuleSpec> = {}): RuleSpec => ({
  id: `rule-${seq++}`,
  userId: 'user-1',
  symbol: 'BTCUSDT',
  condition,
  threshold,
  windowSeconds: condition === 'pct_change' ? 60 : null,
  cooldownSeconds: 0,
  channels: ['email'],
  armed: initialArmed(condition),
  lastFiredAtMs: null,
  ...extra,
});

/** Feeds prices one second apart and returns, per price, the ids that fired. */
function run(evaluator: AlertEvaluator, prices: string[], start = T0): string[][] {
  return prices.map((price, i) => {
    const time = start + i * 1000;
    return evaluator
      .evaluate(tick(price, time), time)
      .fired.map((f) => f.rule.id)
      .sort();
  });
}

describe(AlertEvaluator.name, () => {
  it('fires an above rule once on the crossing, re-arms only after the price leaves the condition', () => {
    const evaluator = new AlertEvaluator(STALE_MS);
    const above = evaluator.upsert(rule('above', '100'));
    expect(run(evaluator, ['99', '100', '101', '150', '99.99999999', '100.5'])).toEqual([
      [],
      [above.id],
      [],
      [],
      [],
      [above.id],
    ]);
  });

  it('fires an above rule created while the condition holds on the next fresh price, a crosses_up rule only after a crossing', () => {
    const evaluator = new AlertEvaluator(STALE_MS);
    const above = evaluator.upsert(rule('above', '100'));
    const crosses = evaluator.upsert(rule('crosses_up', '100'));
    expect(run(evaluator, ['120', '121', '90', '100'])).toEqual([
      [above.id],
      [],
      [],
      [above.id, crosses.id].sort(),
    ]);
  });

  it('handles below and crosses_down symmetrically, with exact decimals', () => {
    const evaluator = new AlertEvaluator(STALE_MS);
    const below = evaluator.upsert(rule('below', '0.000000000000000002'));
    const crosses = evaluator.upsert(rule('crosses_down', '0.000000000000000002'));
    expect(
      run(evaluator, [
        '0.000000000000000003',
        '0.000000000000000002',
        '0.000000000000000001',
        '0.000000000000000003',
      ]),
    ).toEqual([[], [below.id, crosses.id].sort(), [], []].map((ids) => ids));
  });

  it('consumes a crossing inside the cooldown without firing, and fires the next one after it', () => {
    const evaluator = new AlertEvaluator(STALE_MS);
    const r = evaluator.upsert(rule('above', '100', { cooldownSeconds: 10 }));
    // t=0 fires; t=2 re-enters within 10 s: consumed; t=4 still inside: nothing; t=12 after leaving at t=11: fires.
    const prices = ['101', '99', '101', '101', '101', '99', '99', '99', '99', '99', '99', '99', '101'];
    const fired = run(evaluator, prices);
    expect(fired.flat()).toEqual([r.id, r.id]);
    expect(fired[0]).toEqual([r.id]);
    expect(fired[12]).toEqual([r.id]);
  });

  it('fires nothing and re-arms nothing on a stale or out-of-order price', () => {
    const evaluator = new AlertEvaluator(STALE_MS);
    const r = evaluator.upsert(rule('above', '100'));
    expect(evaluator.evaluate(tick('150', T0 - STALE_MS - 1), T0).fired).toEqual([]);
    expect(evaluator.evaluate(tick('150', T0), T0).fired.map((f) => f.rule.id)).toEqual([r.id]);
    // an older price (below) does not re-arm it
    expect(evaluator.evaluate(tick('50', T0 - 1), T0 + 10).changed).toEqual([]);
    expect(evaluator.evaluate(tick('150', T0 + 1000), T0 + 1000).fired).toEqual([]);
  });

  it('keeps a disarmed rule quiet after a restart while the same episode lasts', () => {
    const evaluator = new AlertEvaluator(STALE_MS);
    // as loaded from the database after it fired: armed = false
    const r = evaluator.upsert({ ...rule('above', '100'), armed: false });
    expect(run(evaluator, ['120', '130', '90', '120']).map((ids) => ids.length)).toEqual([0, 0, 0, 1]);
    expect(evaluator.get(r.id)!.armed).toBe(false);
  });

  it('fires pct_change rules on a rise or a fall over their window, after warm-up', () => {
    const evaluator = new AlertEvaluator(STALE_MS);
    const rise = evaluator.upsert(rule('pct_change', '5', { windowSeconds: 2 }));
    const fall = evaluator.upsert(rule('pct_change', '-10', { windowSeconds: 2 }));
    // window 2 s: each price is compared with the one 2 s earlier
    expect(run(evaluator, ['100', '104', '105', '104', '110.25', '99.225', '99'])).toEqual([
      [], // warm-up: nothing 2 s back yet
      [],
      [rise.id], // 100 → 105 = +5 %
      [], // 104 → 104: the rise rule re-arms
      [rise.id], // 105 → 110.25 = +5 % again
      [], // 104 → 99.225 = −4.59 %
      [fall.id], // 110.25 → 99 = −10.2 %
    ]);
  });

  it('removes and replaces rules', () => {
    const evaluator = new AlertEvaluator(STALE_MS);
    const a = evaluator.upsert(rule('above', '100'));
    run(evaluator, ['50']);
    evaluator.remove(a.id);
    expect(run(evaluator, ['150'], T0 + 1000)).toEqual([[]]);
    const b = evaluator.upsert(rule('above', '200'));
    evaluator.upsert({ ...rule('above', '300'), id: b.id });
    expect(run(evaluator, ['250', '300'], T0 + 2000)).toEqual([[], [b.id]]);
    expect(evaluator.size).toBe(1);
  });

  it('fires exactly what a full scan fires, over random rules and prices', () => {
    const random = seededRandom(42);
    const indexed = new AlertEvaluator(STALE_MS);
    const scan = new FullScanEvaluator(STALE_MS);
    const conditions: AlertCondition[] = ['above', 'below', 'crosses_up', 'crosses_down', 'pct_change'];
    const add = (i: number) => {
      const condition = conditions[Math.floor(random() * conditions.length)];
      const threshold =
        condition === 'pct_change'
          ? `${random() < 0.5 ? '-' : ''}${(random() * 3).toFixed(2)}`
          : (95 + random() * 10).toFixed(2);
      const spec = rule(condition, threshold, {
        id: `r${i}`,
        windowSeconds: condition === 'pct_change' ? 1 + Math.floor(random() * 5) : null,
        cooldownSeconds: random() < 0.2 ? Math.floor(random() * 5) : 0,
        armed: random() < 0.5,
      });
      indexed.upsert(spec);
      scan.upsert(spec);
    };
    for (let i = 0; i < 600; i++) add(i);
    let price = 100;
    for (let step = 0; step < 400; step++) {
      if (step % 50 === 25) for (let i = 0; i < 20; i++) add(1000 + step * 20 + i); // rules added while running
      price = Math.max(1, price + (random() - 0.5) * 2);
      const t = T0 + step * 1000;
      const p = tick(price.toFixed(4), t);
      const a = indexed.evaluate(p, t);
      const b = scan.evaluate(p, t);
      expect(a.fired.map((f) => f.rule.id).sort()).toEqual(b.fired.map((f) => f.rule.id).sort());
      expect(a.changed.map((r) => `${r.id}:${r.armed}`).sort()).toEqual(
        b.changed.map((r) => `${r.id}:${r.armed}`).sort(),
      );
    }
  });
});
