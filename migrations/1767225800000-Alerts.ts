import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Price alerts: the rules (with the evaluator's persisted armed state), every firing (alert
 * history), and the delivery record per channel. Prices and thresholds are numeric, never float.
 */
export class Alerts1767225800000 implements MigrationInterface {
  name = 'Alerts1767225800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE price_alerts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        symbol text NOT NULL CHECK (symbol ~ '^[A-Z0-9]{2,20}$'),
        condition text NOT NULL CHECK (condition IN ('above', 'below', 'crosses_up', 'crosses_down', 'pct_change')),
        threshold numeric(38, 18) NOT NULL,
        window_seconds integer CHECK (window_seconds BETWEEN 1 AND 86400),
        cooldown_seconds integer NOT NULL DEFAULT 0 CHECK (cooldown_seconds >= 0),
        channels text[] NOT NULL CHECK (cardinality(channels) >= 1 AND channels <@ ARRAY['email', 'socket']),
        active boolean NOT NULL DEFAULT true,
        -- The evaluator's state: false from a firing until a fresh price leaves the condition, so a
        -- restart does not fire the same episode again.
        armed boolean NOT NULL,
        last_triggered_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((condition = 'pct_change') = (window_seconds IS NOT NULL)),
        CHECK (condition = 'pct_change' OR threshold > 0),
        CHECK (condition <> 'pct_change' OR threshold <> 0)
      )`);
    await q.query(`CREATE INDEX price_alerts_user_created_idx ON price_alerts (user_id, created_at, id)`);
    await q.query(`CREATE INDEX price_alerts_active_idx ON price_alerts (symbol) WHERE active`);

    // History outlives its rule: deleting an alert keeps what it did (alert_id becomes null).
    await q.query(`
      CREATE TABLE alert_firings (
        id uuid PRIMARY KEY,
        -- History order: firings of one tick share a millisecond, so order (and page) by this.
        seq bigserial NOT NULL UNIQUE,
        alert_id uuid REFERENCES price_alerts(id) ON DELETE SET NULL,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        symbol text NOT NULL,
        condition text NOT NULL,
        threshold numeric(38, 18) NOT NULL,
        window_seconds integer,
        price numeric(38, 18) NOT NULL,
        price_time timestamptz NOT NULL,
        triggered_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX alert_firings_user_idx ON alert_firings (user_id, triggered_at DESC, id DESC)`,
    );
    await q.query(
      `CREATE INDEX alert_firings_alert_idx ON alert_firings (alert_id, triggered_at DESC, id DESC)`,
    );

    // One delivery = one message on one channel, listing one or more firings of one user.
    await q.query(`
      CREATE TABLE alert_deliveries (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        channel text NOT NULL CHECK (channel IN ('email', 'socket')),
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_error text,
        -- When the worker may (re)try; null once sent or given up.
        next_attempt_at timestamptz,
        event_id bigint,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((status = 'sent') = (sent_at IS NOT NULL))
      )`);
    await q.query(
      `CREATE INDEX alert_deliveries_due_idx ON alert_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE alert_delivery_firings (
        delivery_id uuid NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
        firing_id uuid NOT NULL REFERENCES alert_firings(id) ON DELETE CASCADE,
        PRIMARY KEY (delivery_id, firing_id)
      )`);
    await q.query(`CREATE INDEX alert_delivery_firings_firing_idx ON alert_delivery_firings (firing_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE alert_delivery_firings`);
    await q.query(`DROP TABLE alert_deliveries`);
    await q.query(`DROP TABLE alert_firings`);
    await q.query(`DROP TABLE price_alerts`);
  }
}
