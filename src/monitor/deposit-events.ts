import { type DepositColumns, depositPayload } from '../deposits/dto/deposit-response.dto.js';
import { type NewEvent, walletRoom } from '../events/domain-events.js';

export type DepositEventType =
  'deposit.detected' | 'deposit.confirmation' | 'deposit.completed' | 'deposit.orphaned';

/** The event payload is the REST representation minus timestamps, with `deposit_id` for `id`. */
export function depositEvent(
  type: DepositEventType,
  row: DepositColumns,
  network: { key: string; chainId: string },
): NewEvent {
  return {
    type,
    room: walletRoom(row.wallet_address),
    data: depositPayload(row, network.key, network.chainId),
  };
}
