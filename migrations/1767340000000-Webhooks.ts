import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed webhooks (docs/webhooks.md): endpoints per user, one message per (endpoint, event) with
 * its attempts, and the fan-out cursor over event_log. Price alerts gain the `webhook` channel.
 */
export class Webhooks1767340000000 implements MigrationInterface {
  name = 'Webhooks1767340000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        url text NOT NULL,
        description text,
        -- null = every event type / every wallet of the user
        event_types text[],
        wallet_ids uuid[],
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason text,
        -- 'whsec_' + base64: the HMAC key of every send (needed in clear to sign)
        secret text NOT NULL,
        -- after a rotation the old secret also signs until previous_secret_expires_at
        previous_secret text,
        previous_secret_expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id, created_at, id)`);

    // One message = one event for one endpoint; its webhook-id is 'msg_' || id and never changes.
    // Written once, and its status once more when it finishes (no index on status: a HOT update).
    await q.query(`
      CREATE TABLE webhook_messages (
        seq bigserial PRIMARY KEY,
        id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        -- null for a test message
        event_id bigint,
        event_type text NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        -- the alert delivery (channel 'webhook') a price_alert_triggered message reports to
        alert_delivery_id uuid REFERENCES alert_deliveries(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (endpoint_id, event_id)
      ) WITH (fillfactor = 85)`);
    await q.query(`CREATE INDEX webhook_messages_endpoint_idx ON webhook_messages (endpoint_id, seq)`);
    await q.query(
      `CREATE INDEX webhook_messages_alert_delivery_idx ON webhook_messages (alert_delivery_id) WHERE alert_delivery_id IS NOT NULL`,
    );

    // The pending messages' schedule: a narrow row per message with status 'pending' (and only
    // those), updated at every claim and attempt, deleted when the message finishes.
    await q.query(`
      CREATE TABLE webhook_queue (
        message_seq bigint PRIMARY KEY REFERENCES webhook_messages(seq) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        next_attempt_at timestamptz NOT NULL,
        -- a worker holds the message until then (a crash mid-send frees it when it passes)
        locked_until timestamptz,
        -- attempts of the current schedule (a replay or redelivery starts a new one)
        schedule_attempts integer NOT NULL DEFAULT 0,
        schedule_started_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_queue_due_idx ON webhook_queue (endpoint_id, next_attempt_at)`);
    await q.query(
      `CREATE INDEX webhook_queue_in_flight_idx ON webhook_queue (endpoint_id) WHERE locked_until IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE webhook_attempts (
        id bigserial PRIMARY KEY,
        message_seq bigint NOT NULL REFERENCES webhook_messages(seq) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL,
        status_code integer,
        latency_ms integer NOT NULL,
        error text
      )`);
    await q.query(`CREATE INDEX webhook_attempts_message_idx ON webhook_attempts (message_seq, id)`);

    // The fan-out's position in event_log (one row): messages up to it exist.
    await q.query(
      `CREATE TABLE webhook_cursor (id boolean PRIMARY KEY DEFAULT true CHECK (id), last_event_id bigint NOT NULL)`,
    );
    await q.query(`INSERT INTO webhook_cursor (last_event_id) SELECT coalesce(max(id), 0) FROM event_log`);

    await q.query(`ALTER TABLE price_alerts DROP CONSTRAINT price_alerts_channels_check`);
    await q.query(`ALTER TABLE price_alerts ADD CONSTRAINT price_alerts_channels_check
      CHECK (cardinality(channels) >= 1 AND channels <@ ARRAY['email', 'socket', 'webhook'])`);
    await q.query(`ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_channel_check`);
    await q.query(`ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_channel_check
      CHECK (channel IN ('email', 'socket', 'webhook'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM alert_deliveries WHERE channel = 'webhook'`);
    await q.query(
      `UPDATE price_alerts SET channels = array_remove(channels, 'webhook') WHERE 'webhook' = ANY(channels)`,
    );
    await q.query(`DELETE FROM price_alerts WHERE cardinality(channels) = 0`);
    await q.query(`ALTER TABLE alert_deliveries DROP CONSTRAINT alert_deliveries_channel_check`);
    await q.query(`ALTER TABLE alert_deliveries ADD CONSTRAINT alert_deliveries_channel_check
      CHECK (channel IN ('email', 'socket'))`);
    await q.query(`ALTER TABLE price_alerts DROP CONSTRAINT price_alerts_channels_check`);
    await q.query(`ALTER TABLE price_alerts ADD CONSTRAINT price_alerts_channels_check
      CHECK (cardinality(channels) >= 1 AND channels <@ ARRAY['email', 'socket'])`);
    await q.query(`DROP TABLE webhook_cursor`);
    await q.query(`DROP TABLE webhook_attempts`);
    await q.query(`DROP TABLE webhook_queue`);
    await q.query(`DROP TABLE webhook_messages`);
    await q.query(`DROP TABLE webhook_endpoints`);
  }
}
