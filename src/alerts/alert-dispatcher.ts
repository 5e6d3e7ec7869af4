import { randomUUID } from 'node:crypto';

import { type BeforeApplicationShutdown, Injectable, Logger, Optional } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { type NewEvent, type PriceAlertEventData, userRoom } from '../events/domain-events.js';
import { EventBus } from '../events/event-bus.js';
import { EventLogRepository } from '../events/event-log.repository.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { EmailDeliveryWorker } from '../notifications/email-delivery.worker.js';
import { webhookUserRoom } from '../webhooks/webhook-events.js';
import { type AlertChannel, type Firing, thresholdText, type TickResult } from './evaluator/rule.js';

interface FiringRecord {
  id: string;
  firing: Firing;
}

const RETRY_FLUSH_MS = 2000;

/**
 * Between the evaluator and the database: queues what ticks did and writes it in one transaction
 * per coalescing window (ALERT_COALESCE_MS, default 1 s, counted from the first queued firing).
 *
 * Per flush: the armed flags of every rule whose state changed (so a restart resumes the same
 * episode), each firing (alert history, its rule's last_triggered_at), and per user ONE delivery per
 * channel listing all that user's firings of the window — a burst of rules is one email and one
 * `price_alert_triggered` event, not many. The socket delivery is the event appended to the event
 * log in this same transaction (so it is `sent` at commit, and replayable); the email delivery is
 * `pending` for the EmailDeliveryWorker; the webhook delivery is `pending` with its own event (room
 * `webhooks:user:<id>`), which webhook delivery fans out to the user's endpoints and reports back. After commit the events are published on the EventBus.
 *
 * Invariant: queued work leaves the queue only with the commit that records it; a failed flush puts
 * it back. A crash before the flush loses no notification: the rule's persisted state is still
 * armed, so the same condition fires again after the restart.
 */
@Injectable()
export class AlertDispatcher implements BeforeApplicationShutdown {
  private readonly logger = new Logger('AlertDispatcher');
  private firings: Firing[] = [];
  private states = new Map<string, boolean>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly eventLog: EventLogRepository,
    private readonly eventBus: EventBus,
    private readonly emailWorker: EmailDeliveryWorker,
    @InjectConfig() private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  /** Synchronous and O(changed): the tick's hot path ends here. */
  enqueue(result: TickResult): void {
    if (result.changed.length === 0 && result.fired.length === 0) return;
    for (const rule of result.changed) this.states.set(rule.id, rule.armed);
    for (const firing of result.fired) this.firings.push(firing);
    this.schedule(this.config.alerts.coalesceMs);
  }

  /** A rule was edited or deleted through the API: its queued state is no longer the truth. */
  forget(ruleId: string): void {
    this.states.delete(ruleId);
  }

  get queued(): number {
    return this.firings.length + this.states.size;
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    // Shutdown flushes explicitly; the timer alone must not keep a process alive.
    this.timer.unref();
  }

  /** Writes everything queued so far (serialised: one flush at a time, in order). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.firings.length === 0 && this.states.size === 0) return;
    const firings = this.firings;
    const states = this.states;
    this.firings = [];
    this.states = new Map();
    this.flushing = this.write(firings, states)
      .catch((error: unknown) => {
        this.logger.error(`recording alert firings failed, will retry: ${(error as Error).message}`);
        // Put it back, older first; a state changed since wins over the one we failed to write.
        this.firings = [...firings, ...this.firings];
        for (const [id, armed] of states) if (!this.states.has(id)) this.states.set(id, armed);
        this.schedule(RETRY_FLUSH_MS);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
  }

  private async write(queued: Firing[], states: Map<string, boolean>): Promise<void> {
    const firings: FiringRecord[] = queued.map((firing) => ({ id: randomUUID(), firing }));
    let emails = 0;
    let fired = 0;
    const logged = await this.dataSource.transaction(async (manager) => {
      if (states.size > 0) {
        await manager.query(
          `UPDATE price_alerts a SET armed = u.armed
             FROM unnest($1::uuid[], $2::boolean[]) AS u(id, armed) WHERE a.id = u.id`,
          [[...states.keys()], [...states.values()]],
        );
      }
      if (firings.length === 0) return [];
      const recorded = await this.recordFirings(manager, firings);
      fired = recorded.length;
      const { events, deliveries } = this.deliveriesOf(recorded);
      emails = deliveries.filter((d) => d.channel === 'email').length;
      const logged = await this.eventLog.append(manager, events);
      const eventIds = new Map(logged.map((e) => [(e.data as PriceAlertEventData).delivery_id, e.id]));
      await manager.query(
        `INSERT INTO alert_deliveries (id, user_id, channel, status, attempts, next_attempt_at, sent_at, event_id)
         SELECT u.id, u.user_id, u.channel,
                CASE WHEN u.channel = 'socket' THEN 'sent' ELSE 'pending' END,
                CASE WHEN u.channel = 'socket' THEN 1 ELSE 0 END,
                CASE WHEN u.channel = 'email' THEN now() END,
                CASE WHEN u.channel = 'socket' THEN now() END,
                u.event_id
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bigint[]) AS u(id, user_id, channel, event_id)`,
        [
          deliveries.map((d) => d.id),
          deliveries.map((d) => d.userId),
          deliveries.map((d) => d.channel),
          deliveries.map((d) => eventIds.get(d.id) ?? null),
        ],
      );
      const links = deliveries.flatMap((d) => d.firingIds.map((f) => [d.id, f] as const));
      await manager.query(
        `INSERT INTO alert_delivery_firings (delivery_id, firing_id)
         SELECT * FROM unnest($1::uuid[], $2::uuid[])`,
        [links.map((l) => l[0]), links.map((l) => l[1])],
      );
      return logged;
    });
    this.metrics?.alertFirings.inc(fired);
    this.eventBus.publish(logged);
    if (emails > 0) this.emailWorker.kick();
  }

  /** Inserts the firings whose rule still exists (one may have been deleted since); returns those. */
  private async recordFirings(manager: EntityManager, firings: FiringRecord[]): Promise<FiringRecord[]> {
    const rows: Array<{ id: string }> = await manager.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::numeric[], $4::integer[], $5::numeric[],
                              $6::timestamptz[], $7::timestamptz[]) WITH ORDINALITY
                AS u(id, alert_id, threshold, window_seconds, price, price_time, triggered_at, n)
       ), touched AS (
         UPDATE price_alerts a SET last_triggered_at = i.triggered_at
           FROM (SELECT alert_id, max(triggered_at) AS triggered_at FROM input GROUP BY alert_id) i
          WHERE a.id = i.alert_id
         RETURNING a.id, a.user_id, a.symbol, a.condition
       )
       INSERT INTO alert_firings (id, alert_id, user_id, symbol, condition, threshold, window_seconds, price, price_time, triggered_at)
       SELECT i.id, i.alert_id, t.user_id, t.symbol, t.condition, i.threshold, i.window_seconds, i.price, i.price_time, i.triggered_at
         FROM input i JOIN touched t ON t.id = i.alert_id
        ORDER BY i.n
       RETURNING id`,
      [
        firings.map((f) => f.id),
        firings.map((f) => f.firing.rule.id),
        firings.map((f) => thresholdText(f.firing.rule)),
        firings.map((f) => f.firing.rule.windowSeconds),
        firings.map((f) => f.firing.price),
        firings.map((f) => new Date(f.firing.priceTimeMs).toISOString()),
        firings.map((f) => new Date(f.firing.firedAtMs).toISOString()),
      ],
    );
    const kept = new Set(rows.map((r) => r.id));
    return firings.filter((f) => kept.has(f.id));
  }

  /** Groups a window's firings per user and channel: one delivery (one message) each. */
  private deliveriesOf(firings: FiringRecord[]): {
    events: NewEvent[];
    deliveries: Array<{ id: string; userId: string; channel: AlertChannel; firingIds: string[] }>;
  } {
    const byUser = new Map<string, FiringRecord[]>();
    for (const f of firings) {
      const list = byUser.get(f.firing.rule.userId) ?? [];
      list.push(f);
      byUser.set(f.firing.rule.userId, list);
    }
    const events: NewEvent[] = [];
    const deliveries: Array<{ id: string; userId: string; channel: AlertChannel; firingIds: string[] }> = [];
    for (const [userId, list] of byUser) {
      for (const channel of ['email', 'socket', 'webhook'] as const) {
        const mine = list.filter((f) => f.firing.rule.channels.includes(channel));
        if (mine.length === 0) continue;
        const id = randomUUID();
        deliveries.push({ id, userId, channel, firingIds: mine.map((f) => f.id) });
        // The webhook channel's message is its own event, in a room no socket joins.
        if (channel === 'socket' || channel === 'webhook') {
          events.push({
            type: 'price_alert.triggered',
            room: channel === 'socket' ? userRoom(userId) : webhookUserRoom(userId),
            data: {
              user_id: userId,
              delivery_id: id,
              alerts: mine.map(({ id: firingId, firing }) => ({
                firing_id: firingId,
                alert_id: firing.rule.id,
                symbol: firing.rule.symbol,
                condition: firing.rule.condition,
                threshold: thresholdText(firing.rule),
                window_seconds: firing.rule.windowSeconds,
                price: firing.price,
                price_time: new Date(firing.priceTimeMs).toISOString(),
                triggered_at: new Date(firing.firedAtMs).toISOString(),
              })),
            },
          });
        }
      }
    }
    return { events, deliveries };
  }
}
