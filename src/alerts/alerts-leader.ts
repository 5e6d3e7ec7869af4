import { randomUUID } from 'node:crypto';

import { Logger } from '@nestjs/common';
import pg from 'pg';

/** Any fixed 64-bit number: the session lock held by the one process that evaluates alerts. */
const ALERTS_LEADER_LOCK = 7_240_118_555;
export const RULES_CHANGED_CHANNEL = 'price_alerts_changed';

export interface LeaderEvents {
  /** Leadership gained (true) or lost (false). */
  leadership(leading: boolean): void;
  /** A rule was created, edited or deleted by another process. */
  ruleChanged(id: string): void;
}

/**
 * Makes one process among those sharing the database the alerts evaluator: it holds a
 * session-level advisory lock on a dedicated connection (the lock dies with the connection, so
 * another process takes over when the leader dies), and LISTENs for rule changes made through any
 * process's API. Without this every API process would evaluate and fire the same rule.
 * A loop, not recursion: connect, LISTEN, try the lock until it is ours, hold it until the
 * connection ends, start over.
 */
export class AlertsLeader {
  /** Tags our own notifications so we do not re-apply a change we already made. */
  readonly instanceId = randomUUID();
  private readonly logger = new Logger('AlertsLeader');
  private client: pg.Client | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  leading = false;
  private settleFirst: (() => void) | undefined;
  /** Settles once the first election attempt is over (won, lost or failed). */
  readonly firstAttempt = new Promise<void>((resolve) => (this.settleFirst = resolve));

  constructor(
    private readonly databaseUrl: string,
    private readonly events: LeaderEvents,
    private readonly retryMs = 2000,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.client?.end().catch(() => undefined);
    await this.running;
  }

  /** Tells the other processes (their leader) that a rule changed. */
  notifyPayload(id: string): string {
    return `${this.instanceId}:${id}`;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const client = new pg.Client({ connectionString: this.databaseUrl });
      this.client = client;
      const ended = new Promise<void>((resolve) => {
        client.once('end', resolve);
        // `on`, not `once`: a second error event without a listener would crash the process.
        client.on('error', (error) => {
          this.logger.warn(`leader connection failed: ${error.message}`);
          resolve();
        });
      });
      let gone = false;
      void ended.then(() => (gone = true));
      try {
        await client.connect();
        client.on('notification', (message) => {
          const [from, id] = (message.payload ?? '').split(':');
          if (from !== this.instanceId && id) this.events.ruleChanged(id);
        });
        await client.query(`LISTEN ${RULES_CHANGED_CHANNEL}`);
        while (!this.stopped && !gone) {
          const [row] = (
            await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [ALERTS_LEADER_LOCK])
          ).rows;
          if (row?.ok) break;
          this.settleFirst?.();
          await this.sleep(this.retryMs);
        }
        if (!this.stopped && !gone) {
          this.setLeading(true);
          this.settleFirst?.();
          await ended;
        }
      } catch (error) {
        this.logger.warn(`leader election failed: ${(error as Error).message}`);
      }
      this.settleFirst?.();
      this.setLeading(false);
      await client.end().catch(() => undefined);
      if (!this.stopped) await this.sleep(this.retryMs);
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (leading) this.logger.log('this process now evaluates price alerts');
    this.events.leadership(leading);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
