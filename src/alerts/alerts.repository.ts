import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { AlertChannel, AlertCondition } from './evaluator/rule.js';
import type { AlertRow } from './dto/alert.dto.js';

const ALERT_COLUMNS = `id, user_id, symbol, condition, threshold::text AS threshold, window_seconds, cooldown_seconds,
  channels, active, armed, last_triggered_at, created_at, updated_at`;

export interface NewAlert {
  userId: string;
  symbol: string;
  condition: AlertCondition;
  threshold: string;
  windowSeconds: number | null;
  cooldownSeconds: number;
  channels: AlertChannel[];
  armed: boolean;
}

export interface AlertPatch {
  threshold?: string;
  active?: boolean;
  cooldownSeconds?: number;
  armed?: boolean;
}

export interface FiringRow {
  id: string;
  alert_id: string | null;
  symbol: string;
  condition: AlertCondition;
  threshold: string;
  window_seconds: number | null;
  price: string;
  price_time: Date;
  triggered_at: Date;
  seq: string;
  deliveries: Array<{
    id: string;
    channel: AlertChannel;
    status: 'pending' | 'sent' | 'failed';
    attempts: number;
    last_error: string | null;
    next_attempt_at: string | null;
    sent_at: string | null;
    firings_in_message: number;
  }> | null;
}

/** Rules and their history; one statement per operation, always scoped to the owner. */
@Injectable()
export class AlertsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The new alert, or undefined when its user already has `limit` alerts. */
  insert(a: NewAlert, limit: number): Promise<AlertRow | undefined> {
    return this.dataSource.transaction(async (manager) => {
      // The user's row lock serializes their creations; the insert's fresh snapshot sees them all.
      await manager.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [a.userId]);
      const [row] = await manager.query<AlertRow[]>(
        `INSERT INTO price_alerts (user_id, symbol, condition, threshold, window_seconds, cooldown_seconds, channels, armed)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8
          WHERE (SELECT count(*) FROM price_alerts WHERE user_id = $1) < $9
         RETURNING ${ALERT_COLUMNS}`,
        [
          a.userId,
          a.symbol,
          a.condition,
          a.threshold,
          a.windowSeconds,
          a.cooldownSeconds,
          a.channels,
          a.armed,
          limit,
        ],
      );
      return row;
    });
  }

  listForUser(userId: string): Promise<AlertRow[]> {
    return this.dataSource.query(
      `SELECT ${ALERT_COLUMNS} FROM price_alerts WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
  }

  async findOwned(userId: string, id: string): Promise<AlertRow | undefined> {
    const rows: AlertRow[] = await this.dataSource.query(
      `SELECT ${ALERT_COLUMNS} FROM price_alerts WHERE user_id = $1 AND id = $2`,
      [userId, id],
    );
    return rows[0];
  }

  /** Any user's rule, for the evaluator (never for a response). */
  async findById(id: string): Promise<AlertRow | undefined> {
    const rows: AlertRow[] = await this.dataSource.query(
      `SELECT ${ALERT_COLUMNS} FROM price_alerts WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async updateOwned(userId: string, id: string, patch: AlertPatch): Promise<AlertRow | undefined> {
    const rows: AlertRow[] = await this.dataSource.query(
      // (a CTE: TypeORM returns [rows, count] for a bare UPDATE … RETURNING)
      `WITH updated AS (
       UPDATE price_alerts
          SET threshold = COALESCE($3::numeric, threshold),
              active = COALESCE($4::boolean, active),
              cooldown_seconds = COALESCE($5::integer, cooldown_seconds),
              armed = COALESCE($6::boolean, armed),
              updated_at = now()
        WHERE user_id = $1 AND id = $2
        RETURNING *)
       SELECT ${ALERT_COLUMNS} FROM updated`,
      [
        userId,
        id,
        patch.threshold ?? null,
        patch.active ?? null,
        patch.cooldownSeconds ?? null,
        patch.armed ?? null,
      ],
    );
    return rows[0];
  }

  async deleteOwned(userId: string, id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH deleted AS (DELETE FROM price_alerts WHERE user_id = $1 AND id = $2 RETURNING id) SELECT id FROM deleted`,
      [userId, id],
    );
    return rows.length > 0;
  }

  /** Every active rule, for the evaluator at start. */
  loadActive(): Promise<AlertRow[]> {
    return this.dataSource.query(`SELECT ${ALERT_COLUMNS} FROM price_alerts WHERE active`);
  }

  /**
   * The caller's firings, newest first (by `seq`, the order they were recorded), with each one's
   * deliveries. The cursor is the last row's seq, so pages neither skip nor repeat.
   */
  historyPage(options: {
    userId: string;
    alertId?: string;
    limit: number;
    afterSeq?: string;
  }): Promise<FiringRow[]> {
    const params: unknown[] = [options.userId];
    const where = ['f.user_id = $1'];
    if (options.alertId !== undefined) {
      params.push(options.alertId);
      where.push(`f.alert_id = $${params.length}`);
    }
    if (options.afterSeq !== undefined) {
      params.push(options.afterSeq);
      where.push(`f.seq < $${params.length}::bigint`);
    }
    params.push(options.limit);
    return this.dataSource.query(
      `SELECT f.id, f.alert_id, f.symbol, f.condition, f.threshold::text AS threshold, f.window_seconds,
              f.price::text AS price, f.price_time, f.triggered_at,
              f.seq::text AS seq,
              (SELECT json_agg(json_build_object(
                        'id', d.id, 'channel', d.channel, 'status', d.status, 'attempts', d.attempts,
                        'last_error', d.last_error, 'next_attempt_at', d.next_attempt_at, 'sent_at', d.sent_at,
                        'firings_in_message', (SELECT count(*) FROM alert_delivery_firings x WHERE x.delivery_id = d.id))
                      ORDER BY d.channel)
                 FROM alert_delivery_firings df JOIN alert_deliveries d ON d.id = df.delivery_id
                WHERE df.firing_id = f.id) AS deliveries
         FROM alert_firings f
        WHERE ${where.join(' AND ')}
        ORDER BY f.seq DESC
        LIMIT $${params.length}`,
      params,
    );
  }
}
