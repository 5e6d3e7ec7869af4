import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The webhook retention (WEBHOOK_RETENTION_DAYS, docs/webhooks.md) reads the messages created
 * before its cutoff through this index: without it, each run's last batch read the whole table
 * (every message of the retention period) to find that nothing more was due. `created_at` never
 * changes, so a message's status update stays in place (HOT).
 */
export class WebhookRetention1767370000000 implements MigrationInterface {
  name = 'WebhookRetention1767370000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX webhook_messages_created_idx ON webhook_messages (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_messages_created_idx`);
  }
}
