import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { fromScaled, parseExchangePrice, percentChange } from './decimal.js';
import { PriceFeed, type PriceTick } from './feed/price-feed.js';

/** What the public price stream sends (Socket.IO event `price` on namespace `/prices`) and what the chart reads. */
export interface PricePoint {
  symbol: string;
  /** Exact, as the exchange sent it. */
  price: string;
  /** Exchange time (ISO 8601). */
  exchange_time: string;
  /** Percent change over 24 h, exact to 2 decimals (rounded down), when the feed gives the 24 h open. */
  change_24h_percent: string | null;
}

/** Points kept per symbol for GET /prices/{symbol}/recent: at the default interval, the last 15 minutes. */
export const RECENT_POINTS = 900;

/** Percent from the 24 h open to the last price, truncated to 2 decimals ("-1.25"), or null. */
export function change24hPercent(openText: string | undefined, priceText: string): string | null {
  const open = parseExchangePrice(openText);
  const last = parseExchangePrice(priceText);
  if (open === undefined || last === undefined || open <= 0n) return null;
  const { floor, ceil } = percentChange(open, last);
  // Truncate towards zero to 2 decimals: floor for a rise, ceil for a fall.
  const exact = last >= open ? floor : ceil;
  const hundredth = 10n ** 16n;
  const text = fromScaled((exact / hundredth) * hundredth);
  return text === '-0' ? '0' : text;
}

export const toPricePoint = (tick: PriceTick): PricePoint => ({
  symbol: tick.symbol,
  price: tick.priceText,
  exchange_time: new Date(tick.timeMs).toISOString(),
  change_24h_percent: change24hPercent(tick.openText, tick.priceText),
});

/**
 * Per symbol, at most one update per `intervalMs`: the first tick of a quiet symbol goes out at
 * once, later ones within the interval are held and only the newest is sent when it ends (so the
 * last price is never lost, and a busy `@trade` stream cannot flood browsers).
 */
export class PerSymbolThrottle<T extends { symbol: string }> {
  private readonly lastSentAt = new Map<string, number>();
  private readonly held = new Map<string, T>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly intervalMs: number,
    private readonly send: (item: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  push(item: T): void {
    const { symbol } = item;
    if (this.timers.has(symbol)) {
      this.held.set(symbol, item);
      return;
    }
    const since = this.now() - (this.lastSentAt.get(symbol) ?? -Infinity);
    if (since >= this.intervalMs) {
      this.emit(item);
      this.arm(symbol, this.intervalMs);
    } else {
      this.held.set(symbol, item);
      this.arm(symbol, this.intervalMs - since);
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.held.clear();
  }

  private emit(item: T): void {
    this.lastSentAt.set(item.symbol, this.now());
    this.send(item);
  }

  /** Until the interval ends nothing is sent for the symbol; then what is held (if any) goes, and re-arms. */
  private arm(symbol: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(symbol);
      const item = this.held.get(symbol);
      if (item === undefined) return;
      this.held.delete(symbol);
      this.emit(item);
      this.arm(symbol, this.intervalMs);
    }, delayMs);
    timer.unref();
    this.timers.set(symbol, timer);
  }
}

/**
 * The public price stream: feed ticks throttled per symbol (PRICE_STREAM_INTERVAL_MS), kept as
 * recent points for charts, and handed to listeners (the `/prices` Socket.IO namespace). Every API
 * process runs its own feed, so each serves its own clients; nothing crosses processes.
 */
@Injectable()
export class PriceStream implements OnModuleInit, OnApplicationShutdown {
  private readonly recentBySymbol = new Map<string, PricePoint[]>();
  private readonly listeners = new Set<(point: PricePoint) => void>();
  private readonly throttle: PerSymbolThrottle<PriceTick>;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly feed: PriceFeed,
    @InjectConfig() config: AppConfig,
  ) {
    this.throttle = new PerSymbolThrottle(config.alerts.priceStreamIntervalMs, (tick) =>
      this.publish(toPricePoint(tick)),
    );
  }

  onModuleInit(): void {
    this.unsubscribe = this.feed.onPrice((tick) => this.throttle.push(tick));
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
    this.throttle.stop();
  }

  onPoint(listener: (point: PricePoint) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Oldest first; empty for a symbol without prices yet. */
  recent(symbol: string): PricePoint[] {
    return [...(this.recentBySymbol.get(symbol) ?? [])];
  }

  /** The newest point of every symbol that has one. */
  latest(): PricePoint[] {
    return [...this.recentBySymbol.values()].flatMap((points) => points.slice(-1));
  }

  private publish(point: PricePoint): void {
    let points = this.recentBySymbol.get(point.symbol);
    if (!points) this.recentBySymbol.set(point.symbol, (points = []));
    // An older exchange time than the last point (a reconnect replaying) is not charted backwards.
    const last = points.at(-1);
    if (last && last.exchange_time > point.exchange_time) return;
    points.push(point);
    if (points.length > RECENT_POINTS) points.splice(0, points.length - RECENT_POINTS);
    for (const listener of this.listeners) listener(point);
  }
}
