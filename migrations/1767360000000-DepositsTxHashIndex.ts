import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One index less to write on every deposit insert and every completion: `deposits_tx_hash_idx`
 * (tx_hash) only served GET /deposits/tx/{tx_hash}, and that lookup is answered as well by the two
 * indexes the monitor keeps anyway, probed per network: `deposits_live_key` (network_id, tx_hash,
 * …) for live deposits and `deposits_orphaned_tx_idx` (network_id, tx_hash) for orphaned ones
 * (DepositsRepository.findOwnedByTx). Each index costs ~1.5 ms of a 200-deposit block's commit and
 * as much of its settle on the benchmark machine (docs/monitor.md, "The slow-commit tail").
 */
export class DepositsTxHashIndex1767360000000 implements MigrationInterface {
  name = 'DepositsTxHashIndex1767360000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX deposits_tx_hash_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX deposits_tx_hash_idx ON deposits (tx_hash)`);
  }
}
