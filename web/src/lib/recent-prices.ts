import type { PricePoint } from '../api/client';

/** Points a chart keeps, as many as the service's GET /prices/{symbol}/recent holds. */
export const CHART_POINTS = 900;

/**
 * A chart's history: the fetched points followed by the live points that are not in it, capped to
 * CHART_POINTS. A live point older than the history's last is not added (the history has it, or
 * had it and dropped it to the cap); one at the same exchange time is added unless a point with
 * that time and price is already there (the exchange sends several trades in one millisecond).
 */
export function mergeRecent(fetched: readonly PricePoint[], live: readonly PricePoint[]): PricePoint[] {
  const merged = [...fetched];
  for (const point of live) {
    const last = merged.at(-1)?.exchange_time ?? '';
    if (point.exchange_time < last) continue;
    if (point.exchange_time === last && sameTimeHas(merged, point)) continue;
    merged.push(point);
  }
  return merged.slice(-CHART_POINTS);
}

/** Whether the points at the end of `points` with `point`'s exchange time include its price. */
function sameTimeHas(points: readonly PricePoint[], point: PricePoint): boolean {
  for (let i = points.length - 1; i >= 0 && points[i].exchange_time === point.exchange_time; i--) {
    if (points[i].price === point.price) return true;
  }
  return false;
}
