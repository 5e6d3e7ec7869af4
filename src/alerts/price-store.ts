import { Injectable } from '@nestjs/common';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import type { PriceTick } from './feed/price-feed.js';
import { change24hPercent } from './price-stream.js';

export interface LatestPrice {
  symbol: string;
  price: string | null;
  exchangeTimeMs: number | null;
  receivedAtMs: number | null;
  stale: boolean;
  /** Percent change from the 24 h open, as the price stream sends it (null: no price or no open). */
  change24hPercent: string | null;
}

/** The latest price per feed symbol (by exchange time: an older message never replaces a newer one). */
@Injectable()
export class PriceStore {
  private readonly latest = new Map<string, PriceTick>();
  private readonly staleMs: number;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    this.staleMs = config.alerts.priceStaleSeconds * 1000;
  }

  update(tick: PriceTick): void {
    const current = this.latest.get(tick.symbol);
    if (!current || tick.timeMs >= current.timeMs) this.latest.set(tick.symbol, tick);
  }

  get(symbol: string): PriceTick | undefined {
    return this.latest.get(symbol);
  }

  /** Every feed symbol, priced or not yet; stale = no price, or its exchange time is older than PRICE_STALE_SECONDS. */
  list(nowMs = Date.now()): LatestPrice[] {
    return this.config.alerts.symbols.map((symbol) => {
      const tick = this.latest.get(symbol);
      return {
        symbol,
        price: tick?.priceText ?? null,
        exchangeTimeMs: tick?.timeMs ?? null,
        receivedAtMs: tick?.receivedAtMs ?? null,
        stale: tick === undefined || nowMs - tick.timeMs > this.staleMs,
        change24hPercent: tick ? change24hPercent(tick.openText, tick.priceText) : null,
      };
    });
  }
}
