import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { AlertDispatcher } from './alert-dispatcher.js';
import { AlertsRepository } from './alerts.repository.js';
import { normalizeDecimal } from './decimal.js';
import type { AlertRow } from './dto/alert.dto.js';
import { AlertEvaluator } from './evaluator/alert-evaluator.js';
import type { RuleSpec } from './evaluator/rule.js';
import { PriceFeed, type PriceTick } from './feed/price-feed.js';
import { PriceStore } from './price-store.js';

export const toRuleSpec = (row: AlertRow): RuleSpec => ({
  id: row.id,
  userId: row.user_id,
  symbol: row.symbol,
  condition: row.condition,
  threshold: normalizeDecimal(row.threshold),
  windowSeconds: row.window_seconds,
  cooldownSeconds: row.cooldown_seconds,
  channels: row.channels,
  armed: row.armed,
  lastFiredAtMs: row.last_triggered_at?.getTime() ?? null,
});

/**
 * Wires the live feed to the evaluator: every price updates the store, is evaluated in memory,
 * and what fired is queued for the dispatcher — synchronously, in the feed's message handler.
 * Rules are loaded from the database at start, before the feed is connected.
 */
@Injectable()
export class AlertsEngine implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AlertsEngine');
  readonly evaluator: AlertEvaluator;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly feed: PriceFeed,
    private readonly prices: PriceStore,
    private readonly repository: AlertsRepository,
    private readonly dispatcher: AlertDispatcher,
    @InjectConfig() config: AppConfig,
  ) {
    this.evaluator = new AlertEvaluator(config.alerts.priceStaleSeconds * 1000);
  }

  async onApplicationBootstrap(): Promise<void> {
    const rows = await this.repository.loadActive();
    for (const row of rows) this.evaluator.upsert(toRuleSpec(row));
    this.logger.log(
      `loaded ${rows.length} active price alerts; feed symbols ${this.feed.symbols.join(', ')}`,
    );
    this.unsubscribe = this.feed.onPrice((tick) => this.onPrice(tick));
    this.feed.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.feed.stop();
  }

  onPrice(tick: PriceTick): void {
    this.prices.update(tick);
    this.dispatcher.enqueue(this.evaluator.evaluate(tick, Date.now()));
  }

  /** The rule as stored now (created, edited, resumed): replaces what the evaluator had. */
  track(row: AlertRow): void {
    this.dispatcher.forget(row.id);
    if (row.active) this.evaluator.upsert(toRuleSpec(row));
    else this.evaluator.remove(row.id);
  }

  untrack(id: string): void {
    this.dispatcher.forget(id);
    this.evaluator.remove(id);
  }

  setCooldown(id: string, cooldownSeconds: number): void {
    this.evaluator.setCooldown(id, cooldownSeconds);
  }
}
