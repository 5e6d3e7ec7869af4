import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event log's retention (EVENT_LOG_RETENTION_DAYS, docs/realtime.md): `event_log_horizon`
 * holds the highest event id it has deleted (0: none yet), so a replay from an older
 * `since_event_id` can say that it is incomplete instead of silently skipping what was deleted.
 * One row, like `webhook_cursor`. The deletes walk `event_log_pkey` in id order: no new index.
 */
export class EventLogRetention1767380000000 implements MigrationInterface {
  name = 'EventLogRetention1767380000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE event_log_horizon (id boolean PRIMARY KEY DEFAULT true CHECK (id),
                                       pruned_through bigint NOT NULL DEFAULT 0 CHECK (pruned_through >= 0))`,
    );
    await q.query(`INSERT INTO event_log_horizon DEFAULT VALUES`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE event_log_horizon`);
  }
}
