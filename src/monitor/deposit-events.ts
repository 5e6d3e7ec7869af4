import { depositBody, type DepositStateRow } from '../deposits/dto/deposit-response.dto.js';
import { type DepositEventData, type NewEvent, walletRoom } from '../events/domain-events.js';

export type DepositEventType =
  'deposit.detected' | 'deposit.confirmation' | 'deposit.completed' | 'deposit.orphaned';

/** The event payload is the REST representation minus timestamps, with `deposit_id` for `id`. */
export function depositEvent(type: DepositEventType, row: DepositStateRow): NewEvent {
  const data: DepositEventData = { deposit_id: row.id, ...depositBody(row) };
  return { type, room: walletRoom(row.wallet_address), data };
}
