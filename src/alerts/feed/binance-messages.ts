import { parseExchangePrice } from '../decimal.js';

/**
 * Binance spot market streams, combined form: `<base>/stream?streams=btcusdt@miniTicker/…` sends
 * `{"stream":"btcusdt@miniTicker","data":{…}}`. We subscribe to `@miniTicker`: one update a second
 * per symbol carrying the last price (`c`) and its event time (`E`). `@trade` (every trade) is
 * parsed as well (`p`, `T`) but not the default: its volume grows with the market (hundreds of
 * messages a second for BTC in a busy minute) while a per-second last price is what an alert needs;
 * the cost is that a spike that reverses within one second is not seen.
 */
export type BinanceStream = 'miniTicker' | 'trade';

export const streamName = (symbol: string, stream: BinanceStream): string =>
  `${symbol.toLowerCase()}@${stream}`;

export function combinedStreamUrl(base: string, symbols: readonly string[], stream: BinanceStream): string {
  const trimmed = base.replace(/\/+$/, '');
  return `${trimmed}/stream?streams=${symbols.map((s) => streamName(s, stream)).join('/')}`;
}

export type BinanceMessage =
  | { kind: 'price'; symbol: string; price: bigint; priceText: string; timeMs: number; openText?: string }
  | { kind: 'serverShutdown' }
  | { kind: 'other' };

interface StreamData {
  e?: unknown;
  s?: unknown;
  c?: unknown;
  o?: unknown;
  p?: unknown;
  E?: unknown;
  T?: unknown;
}

/** One text frame; never throws (a malformed frame is `other`). */
export function parseBinanceMessage(text: string): BinanceMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'other' };
  }
  if (typeof parsed !== 'object' || parsed === null) return { kind: 'other' };
  // The shutdown notice may come bare or inside the envelope.
  const envelope = parsed as { stream?: unknown; data?: unknown; e?: unknown };
  const data = (
    typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : parsed
  ) as StreamData;
  if (data.e === 'serverShutdown' || envelope.e === 'serverShutdown') return { kind: 'serverShutdown' };
  if (typeof envelope.stream !== 'string' || typeof data.s !== 'string') return { kind: 'other' };

  let priceText: unknown;
  let time: unknown;
  if (data.e === '24hrMiniTicker' || data.e === '24hrTicker') {
    priceText = data.c;
    time = data.E;
  } else if (data.e === 'trade' || data.e === 'aggTrade') {
    priceText = data.p;
    time = data.T ?? data.E;
  } else {
    return { kind: 'other' };
  }
  const price = parseExchangePrice(priceText);
  if (price === undefined || price <= 0n || typeof time !== 'number' || !Number.isSafeInteger(time)) {
    return { kind: 'other' };
  }
  const open = parseExchangePrice(data.o);
  return {
    kind: 'price',
    symbol: data.s.toUpperCase(),
    price,
    priceText: priceText as string,
    timeMs: time,
    // The 24 h open of a ticker (absent from trades); kept only when it is a usable price.
    ...(open !== undefined && open > 0n && { openText: data.o as string }),
  };
}
