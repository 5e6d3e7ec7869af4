import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Room on every deposits page for the confirmation updates: a pending deposit's row is rewritten
 * after every block until it completes (confirmations, updated_at). None of those columns is
 * indexed, so with free space on the row's page PostgreSQL updates it in place (a HOT update)
 * instead of writing a new entry into each of the table's seven indexes. With the default fill
 * factor (100) inserts pack the pages full and no such update can be HOT. Pages written before
 * this migration keep their layout until they are rewritten (VACUUM FULL, or as rows move).
 * See "The slow-commit tail" in docs/monitor.md.
 */
export class DepositsFillfactor1767350000000 implements MigrationInterface {
  name = 'DepositsFillfactor1767350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deposits SET (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deposits RESET (fillfactor)`);
  }
}
