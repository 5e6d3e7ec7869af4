import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops `deposits_block_idx` (network_id, block_hash): no query reads deposits by block hash (the
 * follower finds a block's deposits by number, through deposits_network_block_number_idx), and
 * every deposit write paid for it — one of seven index entries per inserted or completed row.
 */
export class DepositWrites1767225900000 implements MigrationInterface {
  name = 'DepositWrites1767225900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS deposits_block_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX deposits_block_idx ON deposits (network_id, block_hash)`);
  }
}
