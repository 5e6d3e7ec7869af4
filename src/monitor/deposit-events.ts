import type { DepositRow } from '../deposits/dto/deposit-response.dto.js';
import { toDepositResponse } from '../deposits/dto/deposit-response.dto.js';
import { type DepositEventData, type NewEvent, walletRoom } from '../events/domain-events.js';

export type DepositEventType =
  'deposit.detected' | 'deposit.confirmation' | 'deposit.completed' | 'deposit.orphaned';

/** The event payload is the REST representation minus timestamps, with `deposit_id` for `id`. */
export function depositEvent(type: DepositEventType, row: DepositRow): NewEvent {
  const {
    id,
    detected_at: _detected,
    completed_at: _completed,
    orphaned_at: _orphaned,
    ...rest
  } = toDepositResponse(row);
  const data: DepositEventData = { deposit_id: id, ...rest };
  return { type, room: walletRoom(row.wallet_address), data };
}
