import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Internal transfers (ETH sent to a watched address by a contract call inside a transaction):
 *
 * - `deposits.trace_address`: the call's position in the transaction's call tree, dot-separated
 *   (`0.1`), for internal transfers; '' for native (top-level) and token transfers, so every
 *   existing row stays valid as it is. How a deposit came (`transfer_type` in the API) follows
 *   from it and `asset_type`: token for ERC-20, internal with a trace address, native otherwise.
 * - The live key becomes (network, tx hash, log index, trace address): two internal transfers of
 *   one transaction (both log index -1, like the transaction's own value) are two deposits.
 *
 * - `chain_cursors.internal_transfers`: whether the network's node shows internal transfers (has a
 *   trace method), as its follower found out; null until it has read a block. GET /networks shows it.
 *
 * `down` deletes the internal deposits (the old key cannot hold them beside their transaction's
 * native deposit), then restores the key.
 */
export class InternalTransfers1767320000000 implements MigrationInterface {
  name = 'InternalTransfers1767320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deposits ADD COLUMN trace_address text NOT NULL DEFAULT ''`);
    await q.query(
      `ALTER TABLE deposits ADD CONSTRAINT deposits_trace_address_check
         CHECK (trace_address ~ '^([0-9]+(\\.[0-9]+)*)?$' AND (trace_address = '' OR (asset_type = 'native' AND log_index = -1)))`,
    );
    await q.query(`DROP INDEX deposits_live_key`);
    await q.query(
      `CREATE UNIQUE INDEX deposits_live_key ON deposits (network_id, tx_hash, log_index, trace_address)
        WHERE status <> 'orphaned'`,
    );
    await q.query(`ALTER TABLE chain_cursors ADD COLUMN internal_transfers boolean`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE chain_cursors DROP COLUMN internal_transfers`);
    await q.query(`DELETE FROM deposits WHERE trace_address <> ''`);
    await q.query(`DROP INDEX deposits_live_key`);
    await q.query(
      `CREATE UNIQUE INDEX deposits_live_key ON deposits (network_id, tx_hash, log_index) WHERE status <> 'orphaned'`,
    );
    await q.query(`ALTER TABLE deposits DROP CONSTRAINT deposits_trace_address_check`);
    await q.query(`ALTER TABLE deposits DROP COLUMN trace_address`);
  }
}
