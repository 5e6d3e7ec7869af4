import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { DataSource } from 'typeorm';

import { backoffDelay } from '../alerts/feed/backoff.js';
import { Signal } from '../common/signal.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { composeAlertEmail, type FiringLine } from './alert-email.js';
import { Mailer, PermanentEmailError } from './mailer.js';

/** A claimed delivery is invisible to other workers this long (longer than any SMTP timeout). */
const LEASE_SECONDS = 120;
const BATCH = 20;
const MAX_RETRY_DELAY_MS = 15 * 60_000;

interface Claimed {
  id: string;
  attempts: number;
}

interface LineRow extends FiringLine {
  email: string;
}

/**
 * Sends the email deliveries of alert history, and records each attempt.
 *
 * Invariants: a delivery is `sent` only after the SMTP server accepted the message; a failed
 * attempt is `failed` with `attempts` counted, `last_error`, and `next_attempt_at` set for the
 * retry (exponential backoff with jitter) or null once given up (SMTP_MAX_ATTEMPTS reached, or a
 * permanent error). Work is taken from the table (`next_attempt_at <= now()`, claimed with
 * `FOR UPDATE SKIP LOCKED` and a lease), so retries survive a restart and several processes never
 * send the same delivery at once. Delivery is at least once: a crash between the server's
 * acceptance and the `sent` update resends after the lease, with the same Message-ID.
 */
@Injectable()
export class EmailDeliveryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EmailDelivery');
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** New work (kick) or shutdown: the loop looks now rather than at the next poll. */
  private readonly signal = new Signal();
  private readonly pollMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly mailer: Mailer,
    @InjectConfig() private readonly config: AppConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.pollMs = Math.min(1000, config.smtp.retryBaseMs);
  }

  onApplicationBootstrap(): void {
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.signal.notify();
    await this.loop;
    this.mailer.close();
  }

  /** New work was queued: look now rather than at the next poll. */
  kick(): void {
    this.signal.notify();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (error) {
        this.logger.error(`email delivery round failed: ${(error as Error).message}`);
      }
      if (claimed < BATCH && !this.stopped) await this.signal.wait(this.pollMs);
    }
  }

  /** Claims due deliveries and attempts each once; returns how many were claimed. */
  async runOnce(): Promise<number> {
    const claimed: Claimed[] = await this.dataSource.query(
      // (wrapped in a CTE: TypeORM returns [rows, count] for a bare UPDATE … RETURNING)
      `WITH claimed AS (
       UPDATE alert_deliveries d
          SET next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
        WHERE d.id IN (SELECT id FROM alert_deliveries
                        WHERE channel = 'email' AND status <> 'sent' AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.attempts)
       SELECT id, attempts FROM claimed`,
      [BATCH, LEASE_SECONDS],
    );
    // In parallel (at most BATCH connections); each attempt records its own outcome.
    await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    return claimed.length;
  }

  private async attempt(delivery: Claimed): Promise<void> {
    const lines: LineRow[] = await this.dataSource.query(
      `SELECT u.email, f.symbol, f.condition, f.threshold::text AS threshold, f.window_seconds,
              f.price::text AS price, f.price_time
         FROM alert_delivery_firings df
         JOIN alert_firings f ON f.id = df.firing_id
         JOIN users u ON u.id = f.user_id
        WHERE df.delivery_id = $1
        ORDER BY f.triggered_at, f.symbol, f.id`,
      [delivery.id],
    );
    const attempt = delivery.attempts + 1;
    try {
      if (lines.length === 0) throw new PermanentEmailError('nothing to send: its firings are gone');
      const message = composeAlertEmail(delivery.id, lines[0].email, lines.map(trimDecimals));
      await this.mailer.send(message);
    } catch (error) {
      const permanent = error instanceof PermanentEmailError;
      const giveUp = permanent || attempt >= this.config.smtp.maxAttempts;
      const delayMs = backoffDelay(attempt, this.config.smtp.retryBaseMs, MAX_RETRY_DELAY_MS);
      await this.dataSource.query(
        `UPDATE alert_deliveries
            SET status = 'failed', attempts = $2, last_error = $3, updated_at = now(),
                next_attempt_at = CASE WHEN $4 THEN NULL ELSE now() + make_interval(secs => $5) END
          WHERE id = $1`,
        [delivery.id, attempt, describeError(error), giveUp, delayMs / 1000],
      );
      this.metrics?.notifications.inc({ channel: 'email', outcome: 'failed' });
      this.logger.warn(
        `email delivery ${delivery.id} attempt ${attempt} failed (${describeError(error)})` +
          (giveUp ? '; giving up' : `; retrying in ${delayMs} ms`),
      );
      return;
    }
    await this.dataSource.query(
      `UPDATE alert_deliveries
          SET status = 'sent', attempts = $2, sent_at = now(), next_attempt_at = NULL, updated_at = now()
        WHERE id = $1`,
      [delivery.id, attempt],
    );
    this.metrics?.notifications.inc({ channel: 'email', outcome: 'sent' });
  }
}

const describeError = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).slice(0, 1000);

/** numeric(38,18) comes back padded ("50000.000000000000000000"): show it as people wrote it. */
const trimDecimals = (line: LineRow): FiringLine => ({
  ...line,
  threshold: trim(line.threshold),
  price: trim(line.price),
});

const trim = (text: string): string => (text.includes('.') ? text.replace(/\.?0+$/, '') : text);
