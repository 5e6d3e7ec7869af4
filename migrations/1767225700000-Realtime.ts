import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The table `@socket.io/postgres-adapter` and `@socket.io/postgres-emitter` use for packets over
 * NOTIFY's 8,000-byte limit (a large price-alert message, say): the packet is stored here and only
 * its id is notified. Each adapter deletes rows older than its cleanup interval (30 s).
 */
export class Realtime1767225700000 implements MigrationInterface {
  name = 'Realtime1767225700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE socket_io_attachments (
        id bigserial UNIQUE,
        created_at timestamptz DEFAULT now(),
        payload bytea
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE socket_io_attachments`);
  }
}
