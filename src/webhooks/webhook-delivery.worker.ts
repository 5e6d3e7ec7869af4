import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
} from '@nestjs/common';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { EventBus } from '../events/event-bus.js';
import { RetentionLoop } from '../common/retention-loop.js';
import { Signal } from '../common/signal.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { webhookHeaders } from './webhook-signature.js';
import { sendWebhook } from './webhook-sender.js';
import { type AttemptOutcome, type ClaimedMessage, WebhooksRepository } from './webhooks.repository.js';

/** Events turned into messages per fan-out transaction. */
const FAN_OUT_BATCH = 2000;
/** Attempts in flight in this process at most (each endpoint also has its own bound). */
const MAX_IN_FLIGHT = 512;
/** Finished messages deleted per statement by the retention (WEBHOOK_RETENTION_DAYS). */
const RETENTION_BATCH = 1000;

/** The delay before retry number `attempt` (1-based) of `schedule`, ±10 % jitter; undefined = give up. */
export function retryDelayMs(
  schedule: readonly number[],
  attempt: number,
  random: () => number = Math.random,
): number | undefined {
  const base = schedule[attempt - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (0.9 + 0.2 * random()));
}

/**
 * Delivers webhooks from the event log, in every process (API and monitor alike): events committed
 * here wake it at once (the EventBus), events of other processes within WEBHOOK_POLL_INTERVAL_MS.
 *
 * Two loops: fan-out (new events into messages) and delivery (claim due messages for the free slots,
 * start their attempts, record finished ones in one statement per round). Attempts run
 * concurrently; one that finishes wakes the delivery loop so its slot is refilled at once. See
 * WebhooksRepository for the at-least-once invariant. Finished messages older than
 * WEBHOOK_RETENTION_DAYS are deleted by a RetentionLoop.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDelivery');
  private stopped = false;
  private loops: Promise<void>[] = [];
  /** Fan-out waits for new events; delivery for due messages or finished attempts. */
  private readonly fanOutSignal = new Signal();
  private readonly deliverySignal = new Signal();
  /** Deletes finished messages older than WEBHOOK_RETENTION_DAYS, with their attempts; 0 days: none. */
  private readonly retention: RetentionLoop | undefined;
  private inFlight = 0;
  private finished: AttemptOutcome[] = [];
  private readonly attempts = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private readonly leaseSeconds: number;

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly eventBus: EventBus,
    @InjectConfig() private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    // Longer than any attempt (its timeout) with room to record it: a live claim never expires.
    this.leaseSeconds = (config.webhooks.timeoutMs * 2) / 1000 + 5;
    const days = config.webhooks.retentionDays;
    if (days > 0)
      this.retention = new RetentionLoop(
        {
          name: 'webhook retention',
          batch: RETENTION_BATCH,
          begin: async () => (limit) => repository.deleteFinished(days, limit),
          describe: (deleted) =>
            `webhook retention: deleted ${deleted} messages finished more than ${days} days ago`,
        },
        this.logger,
      );
  }

  onApplicationBootstrap(): void {
    this.unsubscribe = this.eventBus.subscribe(() => this.fanOutSignal.notify());
    this.loops = [this.fanOutLoop(), this.deliveryLoop()];
    this.retention?.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    this.stopped = true;
    this.fanOutSignal.notify();
    this.deliverySignal.notify();
    await Promise.all([...this.loops, this.retention?.stop()]);
  }

  /** New messages (a test, a replay, an endpoint enabled): look now rather than at the next poll. */
  kick(): void {
    this.deliverySignal.notify();
  }

  /** Turns committed events into messages; woken by this process's events, else every poll. */
  private async fanOutLoop(): Promise<void> {
    while (!this.stopped) {
      let more = false;
      try {
        const { events, messages } = await this.repository.fanOut(FAN_OUT_BATCH);
        if (messages > 0) this.deliverySignal.notify();
        more = events === FAN_OUT_BATCH;
      } catch (error) {
        this.logger.error(`webhook fan-out failed: ${(error as Error).message}`);
      }
      if (!more && !this.stopped) await this.fanOutSignal.wait(this.config.webhooks.pollIntervalMs);
    }
  }

  /**
   * Records finished attempts and claims due messages for the free slots, both at once (they touch
   * different rows); woken by new messages and finished attempts, else every poll (due retries).
   */
  private async deliveryLoop(): Promise<void> {
    while (!this.stopped) {
      let more = false;
      try {
        const [, claimed] = await Promise.all([this.flush(), this.claim()]);
        more = claimed || this.finished.length > 0;
      } catch (error) {
        this.logger.error(`webhook delivery round failed: ${(error as Error).message}`);
      }
      if (!more && !this.stopped) await this.deliverySignal.wait(this.config.webhooks.pollIntervalMs);
    }
    // Shutdown: let the attempts under way finish and record them (their leases would re-send them).
    await Promise.allSettled([...this.attempts]);
    await this.flush().catch((error: unknown) =>
      this.logger.error(`recording the last webhook attempts failed: ${(error as Error).message}`),
    );
  }

  /** Claims and starts attempts for the free slots; true when it filled them all (more may be due). */
  private async claim(): Promise<boolean> {
    const free = MAX_IN_FLIGHT - this.inFlight;
    if (free <= 0) return false;
    const claimed = await this.repository.claim(
      free,
      this.config.webhooks.endpointConcurrency,
      this.leaseSeconds,
    );
    for (const message of claimed) this.start(message);
    return claimed.length === free;
  }

  private async flush(): Promise<void> {
    if (this.finished.length === 0) return;
    const outcomes = this.finished;
    this.finished = [];
    try {
      await this.repository.record(outcomes);
    } catch (error) {
      // Kept for the next round; the leases keep the messages from being claimed meanwhile.
      this.finished = [...outcomes, ...this.finished];
      throw error;
    }
  }

  private start(message: ClaimedMessage): void {
    this.inFlight++;
    const attempt = this.attempt(message)
      .then((outcome) => {
        this.finished.push(outcome);
      })
      .catch((error: unknown) => this.logger.error(`webhook attempt crashed: ${(error as Error).message}`))
      .finally(() => {
        this.inFlight--;
        this.attempts.delete(attempt);
        this.deliverySignal.notify();
      });
    this.attempts.add(attempt);
  }

  private async attempt(message: ClaimedMessage): Promise<AttemptOutcome> {
    const attemptedAt = new Date();
    const headers = webhookHeaders(message.secrets, message.id, message.body, attemptedAt.getTime());
    const result = await sendWebhook(message.url, headers, message.body, {
      timeoutMs: this.config.webhooks.timeoutMs,
      httpsOnly: this.config.env === 'production',
      allowPrivate: this.config.webhooks.allowPrivateUrls,
    });
    this.metrics?.notifications.inc({
      channel: 'webhook',
      outcome: result.error === undefined ? 'sent' : 'failed',
    });
    const retryMs =
      result.error === undefined
        ? undefined
        : retryDelayMs(this.config.webhooks.retryScheduleMs, message.schedule_attempts + 1);
    return {
      seq: message.seq,
      attemptedAt,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
      error: result.error?.slice(0, 1000),
      retryInSeconds: retryMs === undefined ? undefined : retryMs / 1000,
      alertDeliveryId: message.alert_delivery_id,
    };
  }
}
