import type { PricePoint } from '../api/client';

/** Points a chart keeps, as many as the service's GET /prices/{symbol}/recent holds. */
export const CHART_POINTS = 900;

/**
 * A chart's history: the fetched points followed by the live points newer than the last of them,
 * capped to CHART_POINTS. A live point the fetch already holds, or an older one arriving late,
 * is not added twice.
 */
export function mergeRecent(fetched: readonly PricePoint[], live: readonly PricePoint[]): PricePoint[] {
  const last = fetched.at(-1)?.exchange_time ?? '';
  return [...fetched, ...live.filter((point) => point.exchange_time > last)].slice(-CHART_POINTS);
}
