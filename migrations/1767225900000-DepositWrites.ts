import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How the monitor writes deposits:
 *
 * - Only live deposits are unique per (network, tx, log index): the constraint becomes a partial
 *   unique index that leaves orphaned rows out. A transaction re-mined after a reorg revives its
 *   orphaned deposit by transfer identity (MonitorRepository.upsertDeposits), and an ERC-20 log's
 *   block-wide index may then differ from the orphaned row's — or equal the orphaned index of
 *   another transfer of the same transaction, which must not block (or be mistaken for) it.
 * - `deposits_orphaned_tx_idx`: the orphaned deposits by transaction, for that revival lookup.
 * - Drops `deposits_block_idx` (network_id, block_hash): no query reads deposits by block hash
 *   (the follower finds a block's deposits by number), and every deposit write paid for it.
 *
 * `down` restores the constraint; it fails if an orphaned row and a live one share a key by then.
 */
export class DepositWrites1767225900000 implements MigrationInterface {
  name = 'DepositWrites1767225900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS deposits_block_idx`);
    await q.query(`ALTER TABLE deposits DROP CONSTRAINT deposits_network_tx_log_key`);
    await q.query(
      `CREATE UNIQUE INDEX deposits_live_key ON deposits (network_id, tx_hash, log_index) WHERE status <> 'orphaned'`,
    );
    // Every deposit write looks up the orphaned deposits of its transactions (to revive them); few
    // deposits are ever orphaned, so this index stays a page or two and each lookup costs ~nothing.
    await q.query(
      `CREATE INDEX deposits_orphaned_tx_idx ON deposits (network_id, tx_hash) WHERE status = 'orphaned'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX deposits_orphaned_tx_idx`);
    await q.query(`DROP INDEX deposits_live_key`);
    await q.query(
      `ALTER TABLE deposits ADD CONSTRAINT deposits_network_tx_log_key UNIQUE (network_id, tx_hash, log_index)`,
    );
    await q.query(`CREATE INDEX deposits_block_idx ON deposits (network_id, block_hash)`);
  }
}
