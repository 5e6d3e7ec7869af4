import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Networks at run time:
 * - `network_status`: what the monitor process leading a network last reported (its head, cursor,
 *   when its cursor last moved, an error), so that API processes, which follow nothing, can show
 *   it. `following`, `catching_up`, `stalled` and `disabled` are derived when read; only what the
 *   leader alone knows is stored as `state`: `following` (it runs), `error`, `no_endpoint`.
 * - NOTIFY `network_settings` (the network id) when a network row is added or its confirmations,
 *   finality rule or enabled flag change, so every monitor process applies the change at once.
 */
export class NetworkStatus1767310000000 implements MigrationInterface {
  name = 'NetworkStatus1767310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE network_status (
        network_id uuid PRIMARY KEY REFERENCES blockchain_networks(id) ON DELETE CASCADE,
        state text NOT NULL CHECK (state IN ('following', 'error', 'no_endpoint')),
        head_block bigint,
        cursor_block bigint,
        last_block_at timestamptz,
        error text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE FUNCTION network_settings_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('network_settings', NEW.id::text);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER blockchain_networks_notify
        AFTER INSERT OR UPDATE OF required_confirmations, finality_rule, enabled ON blockchain_networks
        FOR EACH ROW EXECUTE FUNCTION network_settings_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER blockchain_networks_notify ON blockchain_networks`);
    await q.query(`DROP FUNCTION network_settings_notify()`);
    await q.query(`DROP TABLE network_status`);
  }
}
