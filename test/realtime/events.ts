import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { DepositEventData, LoggedEvent, NewEvent } from '../../src/events/domain-events.js';
import { walletRoom } from '../../src/events/domain-events.js';
import { EventBus } from '../../src/events/event-bus.js';
import { EventLogRepository } from '../../src/events/event-log.repository.js';

let txCounter = 1;

export function depositData(address: string, overrides: Partial<DepositEventData> = {}): DepositEventData {
  const n = txCounter++;
  return {
    deposit_id: `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
    network: 'devnet',
    chain_id: '31337',
    tx_hash: `0x${n.toString(16).padStart(64, '0')}`,
    log_index: -1,
    transfer_type: 'native',
    trace_address: null,
    block_number: String(100 + n),
    block_hash: `0x${(n + 1_000_000).toString(16).padStart(64, '0')}`,
    from_address: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    wallet_address: address,
    asset: { type: 'native', symbol: 'ETH', contract: null, decimals: 18 },
    amount: '1.5',
    amount_base_units: '1500000000000000000',
    confirmations: 1,
    required_confirmations: 3,
    status: 'pending',
    ...overrides,
  };
}

export const depositEvent = (
  type: 'deposit.detected' | 'deposit.confirmation' | 'deposit.completed' | 'deposit.orphaned',
  data: DepositEventData,
): NewEvent => ({ type, room: walletRoom(data.wallet_address), data });

/** What the monitor does: append in the state-change transaction, publish after commit. */
export async function commitAndPublish(app: INestApplication, events: NewEvent[]): Promise<LoggedEvent[]> {
  const log = app.get(EventLogRepository);
  const logged = await app.get(DataSource).transaction((manager) => log.append(manager, events));
  app.get(EventBus).publish(logged);
  return logged;
}
