import { checksumAddress, toDecimalString } from '../common/evm.js';
import { type DepositStateRow, transferType } from '../deposits/dto/deposit-response.dto.js';
import { type DepositEventData, type NewEvent, walletRoom } from '../events/domain-events.js';

export type DepositEventType =
  'deposit.detected' | 'deposit.confirmation' | 'deposit.completed' | 'deposit.orphaned';

/** A deposit's columns as the monitor's writes return them (its network is the caller's). */
export type DepositColumns = Omit<DepositStateRow, 'network_key' | 'chain_id'>;

/**
 * The event payload is the REST representation minus timestamps, with `deposit_id` for `id`:
 * `{ deposit_id, ...depositBody(row) }`, which deposit-events.spec.ts holds it to.
 * It is written out as one literal here because the monitor builds ~600 of these a live block,
 * and the two spread copies of that form (the row with its network, then the body) were ~45 % of
 * everything a block allocated (docs/monitor.md, 2026-12-06 evening).
 */
export function depositEvent(
  type: DepositEventType,
  row: DepositColumns,
  network: { key: string; chainId: string },
): NewEvent {
  const data: DepositEventData = {
    deposit_id: row.id,
    network: network.key,
    chain_id: network.chainId,
    tx_hash: row.tx_hash,
    log_index: row.log_index,
    transfer_type: transferType(row),
    trace_address: row.trace_address === '' ? null : row.trace_address.split('.').map(Number),
    block_number: row.block_number,
    block_hash: row.block_hash,
    from_address: checksumAddress(row.from_address),
    wallet_address: checksumAddress(row.wallet_address),
    asset: {
      type: row.asset_type,
      symbol: row.asset_symbol,
      contract: row.asset_contract === null ? null : checksumAddress(row.asset_contract),
      decimals: row.asset_decimals,
    },
    amount: toDecimalString(row.amount, row.asset_decimals),
    amount_base_units: row.amount,
    confirmations: row.confirmations,
    required_confirmations: row.required_confirmations,
    status: row.status,
  };
  return { type, room: walletRoom(row.wallet_address), data };
}
