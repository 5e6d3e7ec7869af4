import type { PricePoint } from '../api/client';
import { CHART_POINTS, mergeRecent } from './recent-prices';

const point = (second: number, price = `${50_000 + second}.00000000`): PricePoint => ({
  symbol: 'BTCUSDT',
  price,
  exchange_time: new Date(Date.UTC(2026, 11, 5, 12, 0, second)).toISOString(),
  change_24h_percent: null,
});

describe('a chart history of fetched and live prices', () => {
  it('adds a live point that arrived while the history was being fetched', () => {
    // The fetch answered with points 1 and 2; point 3 reached the socket before the answer did.
    expect(mergeRecent([point(1), point(2)], [point(1), point(2), point(3)])).toEqual([
      point(1),
      point(2),
      point(3),
    ]);
  });

  it('adds no point twice and no point older than the history', () => {
    expect(mergeRecent([point(1), point(3)], [point(2), point(3)])).toEqual([point(1), point(3)]);
  });

  it('adds a live point with the same exchange time as the last, unless its price is there too', () => {
    const same = (price: string) => ({ ...point(2), price });
    expect(mergeRecent([point(1), same('1.00')], [same('2.00')])).toEqual([
      point(1),
      same('1.00'),
      same('2.00'),
    ]);
    expect(mergeRecent([point(1), same('1.00'), same('2.00')], [same('1.00'), same('2.00')])).toEqual([
      point(1),
      same('1.00'),
      same('2.00'),
    ]);
  });

  it('starts from the live points when the history is empty', () => {
    expect(mergeRecent([], [point(4), point(5)])).toEqual([point(4), point(5)]);
  });

  it('keeps the newest points up to the cap', () => {
    const many = Array.from({ length: CHART_POINTS }, (_, i) => point(0, String(i)));
    const merged = mergeRecent(many, [point(1)]);
    expect(merged).toHaveLength(CHART_POINTS);
    expect(merged.at(-1)).toEqual(point(1));
    expect(merged[0].price).toBe('1');
  });
});
