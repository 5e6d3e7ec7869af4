import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { DepositStatus } from './deposit.entity.js';
import type { DepositRow } from './dto/deposit-response.dto.js';

const SELECT_DEPOSIT = `
  SELECT d.id, n.key AS network_key, n.chain_id::text AS chain_id, d.tx_hash, d.log_index, d.trace_address,
         d.block_number::text AS block_number, d.block_hash, d.from_address, d.wallet_address,
         d.asset_type, d.asset_symbol, d.asset_contract, d.asset_decimals, d.amount::text AS amount,
         d.confirmations, d.required_confirmations, d.status, d.detected_at, d.completed_at, d.orphaned_at,
         (extract(epoch FROM d.detected_at) * 1000000)::bigint::text AS detected_us
    FROM deposits d
    JOIN blockchain_networks n ON n.id = d.network_id`;

/** Only the caller's: a deposit is visible when one of the caller's wallets has its address. */
const OWNED = `EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = $1 AND w.address = d.wallet_address)`;

export interface DepositPageRow extends DepositRow {
  detected_us: string;
}

/** Read side of deposits (the monitor owns the write side). */
@Injectable()
export class DepositsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Newest first by (detected_at, id); the cursor is the last row's detected_at in microseconds
   * since the epoch and its id, so pages neither skip nor repeat rows.
   */
  async page(options: {
    /** One wallet's deposits (its lower-case address), or those of every wallet of a user. */
    owner: { address: string } | { userId: string };
    status?: DepositStatus;
    network?: string;
    limit: number;
    after?: { detectedMicros: string; id: string };
  }): Promise<DepositPageRow[]> {
    const { owner } = options;
    const params: unknown[] = ['address' in owner ? owner.address : owner.userId];
    const where = ['address' in owner ? 'd.wallet_address = $1' : OWNED];
    if (options.status !== undefined) {
      params.push(options.status);
      where.push(`d.status = $${params.length}`);
    }
    if (options.network !== undefined) {
      params.push(options.network);
      where.push(`n.key = $${params.length}`);
    }
    if (options.after !== undefined) {
      params.push(options.after.detectedMicros, options.after.id);
      where.push(
        `(d.detected_at, d.id) < ('epoch'::timestamptz + $${params.length - 1}::bigint * interval '1 microsecond', $${params.length}::uuid)`,
      );
    }
    params.push(options.limit);
    return this.dataSource.query(
      `${SELECT_DEPOSIT} WHERE ${where.join(' AND ')} ORDER BY d.detected_at DESC, d.id DESC LIMIT $${params.length}`,
      params,
    );
  }

  async findOwned(userId: string, id: string): Promise<DepositRow | undefined> {
    const rows: DepositRow[] = await this.dataSource.query(`${SELECT_DEPOSIT} WHERE ${OWNED} AND d.id = $2`, [
      userId,
      id,
    ]);
    return rows[0];
  }

  /**
   * The caller's deposits of one transaction, live and orphaned, on every network. Found through
   * the monitor's own per-network indexes (there is no index on tx_hash alone: one less to write
   * per deposit): each network is probed in `deposits_live_key` for live rows and in
   * `deposits_orphaned_tx_idx` for orphaned ones, whose predicates the two arms state.
   */
  async findOwnedByTx(userId: string, txHash: string): Promise<DepositRow[]> {
    const byNetwork = `${SELECT_DEPOSIT} WHERE ${OWNED} AND d.network_id = n.id AND d.tx_hash = $2`;
    return this.dataSource.query(
      `SELECT * FROM (${byNetwork} AND d.status <> 'orphaned' UNION ALL ${byNetwork} AND d.status = 'orphaned') AS d
        ORDER BY d.network_key, d.log_index, d.trace_address, d.status, d.id`,
      [userId, txHash.toLowerCase()],
    );
  }
}
