import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `event_log.payload` as `json` instead of `jsonb`. The log is appended to (~1,000 rows per catch-up
 * batch, 200–600 per live block) and read back whole by id and room; nothing queries inside a
 * payload in production. `jsonb` made every append parse each payload into its binary form and every
 * read turn it back into text; `json` only validates the text and keeps it — and with it the key
 * order the payload was written in. Appending 1,000 deposit events: 26.7 → 19.3 ms (median of 25,
 * docs/monitor.md).
 *
 * Rewrites the table once (it holds an ACCESS EXCLUSIVE lock meanwhile).
 */
export class EventLogJson1767226100000 implements MigrationInterface {
  name = 'EventLogJson1767226100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE event_log ALTER COLUMN payload TYPE json USING payload::json`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE event_log ALTER COLUMN payload TYPE jsonb USING payload::jsonb`);
  }
}
