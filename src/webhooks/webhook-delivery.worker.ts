import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { EventBus } from '../events/event-bus.js';
import { webhookHeaders } from './webhook-signature.js';
import { sendWebhook } from './webhook-sender.js';
import { type AttemptOutcome, type ClaimedMessage, WebhooksRepository } from './webhooks.repository.js';

/** Events turned into messages per fan-out transaction. */
const FAN_OUT_BATCH = 2000;
/** Attempts in flight in this process at most (each endpoint also has its own bound). */
const MAX_IN_FLIGHT = 512;

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
 * One loop: fan out new events into messages, claim due messages (up to the free slots), start their
 * attempts, record finished attempts in one statement per round. Attempts run concurrently; one that
 * finishes wakes the loop so its slot is refilled at once. See WebhooksRepository for the
 * at-least-once invariant.
 */
@Injectable()
export class WebhookDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDelivery');
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  private newEvents = true;
  private inFlight = 0;
  private finished: AttemptOutcome[] = [];
  private readonly attempts = new Set<Promise<void>>();
  private unsubscribe: (() => void) | undefined;
  private readonly leaseSeconds: number;

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly eventBus: EventBus,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    // Longer than any attempt (its timeout) with room to record it: a live claim never expires.
    this.leaseSeconds = (config.webhooks.timeoutMs * 2) / 1000 + 5;
  }

  onApplicationBootstrap(): void {
    this.unsubscribe = this.eventBus.subscribe(() => this.kick(true));
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  /** New messages or events: look now rather than at the next poll. */
  kick(events = false): void {
    if (events) this.newEvents = true;
    this.kicked = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let busy: boolean;
      try {
        busy = await this.round();
      } catch (error) {
        this.logger.error(`webhook delivery round failed: ${(error as Error).message}`);
        await this.sleep(this.config.webhooks.pollIntervalMs);
        continue;
      }
      if (!busy && !this.stopped) {
        const polled = await this.sleep(this.config.webhooks.pollIntervalMs);
        if (polled) this.newEvents = true;
      }
    }
    // Shutdown: let the attempts under way finish and record them (their leases would re-send them).
    await Promise.allSettled([...this.attempts]);
    await this.flush().catch((error: unknown) =>
      this.logger.error(`recording the last webhook attempts failed: ${(error as Error).message}`),
    );
  }

  /** One round; true when there may be more to do right away. */
  private async round(): Promise<boolean> {
    await this.flush();
    let more = false;
    if (this.newEvents) {
      this.newEvents = false;
      const { events } = await this.repository.fanOut(FAN_OUT_BATCH);
      if (events === FAN_OUT_BATCH) this.newEvents = more = true;
    }
    const free = MAX_IN_FLIGHT - this.inFlight;
    if (free > 0) {
      const claimed = await this.repository.claim(
        free,
        this.config.webhooks.endpointConcurrency,
        this.leaseSeconds,
      );
      for (const message of claimed) this.start(message);
      if (claimed.length === free) more = true;
    }
    return more || this.finished.length > 0;
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
        this.kick();
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
    };
  }

  /** Resolves true when the poll interval passed, false when woken earlier. */
  private sleep(ms: number): Promise<boolean> {
    if (this.kicked) {
      this.kicked = false;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const done = (polled: boolean) => {
        clearTimeout(timer);
        this.wake = undefined;
        this.kicked = false;
        resolve(polled);
      };
      const timer = setTimeout(() => done(true), ms);
      this.wake = () => done(false);
    });
  }
}
