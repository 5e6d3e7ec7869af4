import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { AlertDispatcher } from './alert-dispatcher.js';
import { AlertsLeader, RULES_CHANGED_CHANNEL } from './alerts-leader.js';
import { AlertsRepository } from './alerts.repository.js';
import { normalizeDecimal } from './decimal.js';
import type { AlertRow } from './dto/alert.dto.js';
import { AlertEvaluator } from './evaluator/alert-evaluator.js';
import { type RuleSpec, thresholdText } from './evaluator/rule.js';
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
 * Wires the live feed to the evaluator: every price updates the store (in every process, for
 * GET /prices) and, in the one process that leads (AlertsLeader), is evaluated in memory and what
 * fired is queued for the dispatcher — synchronously, in the feed's message handler. The leader
 * loads every active rule when it takes over, and follows changes made through any process.
 */
@Injectable()
export class AlertsEngine implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AlertsEngine');
  private readonly staleMs: number;
  evaluator: AlertEvaluator;
  /** True once this process leads and its evaluator holds every active rule. */
  private evaluating = false;
  private loading: Promise<void> | undefined;
  /** Rules changed through the API while the rules load: newer than what the load reads. */
  private changedWhileLoading: Set<string> | undefined;
  private leader: AlertsLeader | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly feed: PriceFeed,
    private readonly prices: PriceStore,
    private readonly repository: AlertsRepository,
    private readonly dispatcher: AlertDispatcher,
    private readonly dataSource: DataSource,
    @InjectConfig() config: AppConfig,
  ) {
    this.staleMs = config.alerts.priceStaleSeconds * 1000;
    this.evaluator = new AlertEvaluator(this.staleMs);
  }

  get leading(): boolean {
    return this.leader?.leading ?? false;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.feed.onPrice((tick) => this.onPrice(tick));
    const { url } = this.dataSource.options as { url?: string };
    if (url === undefined) throw new Error('price alerts need the database URL for leader election');
    this.leader = new AlertsLeader(url, {
      leadership: (leading) => this.onLeadership(leading),
      ruleChanged: (id) => void this.reload(id),
    });
    this.leader.start();
    // Start evaluating before serving, when this process is the one to do it.
    await this.leader.firstAttempt;
    await this.loading;
    this.feed.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    await this.feed.stop();
    await this.leader?.stop();
  }

  onPrice(tick: PriceTick): void {
    this.prices.update(tick);
    if (this.evaluating) this.dispatcher.enqueue(this.evaluator.evaluate(tick, Date.now()));
  }

  private onLeadership(leading: boolean): void {
    this.evaluating = false;
    this.evaluator = new AlertEvaluator(this.staleMs);
    if (leading) this.loading = this.loadAll();
  }

  private async loadAll(): Promise<void> {
    const evaluator = this.evaluator;
    this.changedWhileLoading = new Set();
    try {
      const rows = await this.repository.loadActive();
      if (evaluator !== this.evaluator) return; // leadership changed meanwhile
      for (const row of rows) if (!this.changedWhileLoading.has(row.id)) evaluator.upsert(toRuleSpec(row));
      this.evaluating = this.leading;
      this.logger.log(
        `evaluating ${evaluator.size} active price alerts; feed ${this.feed.symbols.join(', ')}`,
      );
    } catch (error) {
      this.logger.error(`loading price alerts failed: ${(error as Error).message}`);
    } finally {
      this.changedWhileLoading = undefined;
    }
  }

  /** The rule as stored now (created, edited, resumed, paused): applied here, announced to the others. */
  async track(row: AlertRow): Promise<void> {
    this.apply(row.id, row);
    await this.announce(row.id);
  }

  async untrack(id: string): Promise<void> {
    this.apply(id, undefined);
    await this.announce(id);
  }

  async setCooldown(id: string, cooldownSeconds: number): Promise<void> {
    this.evaluator.setCooldown(id, cooldownSeconds);
    await this.announce(id);
  }

  private apply(id: string, row: AlertRow | undefined): void {
    this.dispatcher.forget(id);
    if (!this.leading) return; // the leader learns it by NOTIFY (and loads everything when it takes over)
    this.changedWhileLoading?.add(id);
    if (row?.active) this.evaluator.upsert(toRuleSpec(row));
    else this.evaluator.remove(id);
  }

  private async announce(id: string): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [
      RULES_CHANGED_CHANNEL,
      this.leader!.notifyPayload(id),
    ]);
  }

  /** Another process changed a rule: take the stored version (a cooldown-only edit keeps the episode). */
  private async reload(id: string): Promise<void> {
    if (!this.leading) return;
    try {
      const row = await this.repository.findById(id);
      const current = this.evaluator.get(id);
      if (row?.active && current && thresholdText(current) === normalizeDecimal(row.threshold)) {
        this.evaluator.setCooldown(id, row.cooldown_seconds);
      } else {
        this.apply(id, row);
      }
    } catch (error) {
      this.logger.error(`reloading price alert ${id} failed: ${(error as Error).message}`);
    }
  }
}
