import type { DataSource } from 'typeorm';

import {
  type DepositEventData,
  type LoggedEvent,
  type NewEvent,
  walletRoom,
} from '../src/events/domain-events.js';
import type { EventBus } from '../src/events/event-bus.js';
import type { EventLogRepository } from '../src/events/event-log.repository.js';

/** Events per append transaction, like the deposits of one busy block. */
export const EVENTS_PER_COMMIT = 250;

/** Wall-clock milliseconds with sub-ms resolution, comparable between processes on one machine. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/** A deposit_detected payload for the `n`-th bench event. */
export function depositData(address: string, n: number): DepositEventData {
  return {
    deposit_id: `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
    network: 'devnet',
    chain_id: '31337',
    tx_hash: `0x${n.toString(16).padStart(64, '0')}`,
    log_index: -1,
    transfer_type: 'native',
    trace_address: null,
    block_number: String(1000 + Math.floor(n / EVENTS_PER_COMMIT)),
    block_hash: `0x${(n + 1).toString(16).padStart(64, 'a')}`,
    from_address: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
    wallet_address: address,
    asset: { type: 'native', symbol: 'ETH', contract: null, decimals: 18 },
    amount: '0.25',
    amount_base_units: '250000000000000000',
    confirmations: 1,
    required_confirmations: 3,
    status: 'pending',
  };
}

/** A request from the bench to its server child (role `all`): commit and publish a round's events. */
export interface CommitRequest {
  kind: 'paced' | 'burst';
  addresses: string[];
  firstSerial: number;
}

/** Per committed event: its id and when it was committed (paced) or published (burst), wall clock. */
export interface CommitReply {
  sent: [number, number][];
  started: number;
  published: number;
}

/**
 * One round, as the monitor commits: `paced` publishes each block of events as soon as its
 * transaction commits (latency commit → client); `burst` commits every block first, then
 * publishes them all at once, so the rate measures the realtime path rather than how fast
 * event_log takes appends.
 */
export async function commitRound(
  { kind, addresses, firstSerial }: CommitRequest,
  dataSource: DataSource,
  log: EventLogRepository,
  bus: EventBus,
): Promise<CommitReply> {
  const sent: [number, number][] = [];
  const blocks: LoggedEvent[][] = [];
  let serial = firstSerial;
  let started = wallClock();
  for (let i = 0; i < addresses.length; i += EVENTS_PER_COMMIT) {
    const events: NewEvent[] = addresses.slice(i, i + EVENTS_PER_COMMIT).map((address) => ({
      type: 'deposit.detected',
      room: walletRoom(address),
      data: depositData(address, serial++),
    }));
    const logged = await dataSource.transaction((manager) => log.append(manager, events));
    if (kind === 'burst') {
      blocks.push(logged);
      continue;
    }
    const now = wallClock();
    for (const event of logged) sent.push([event.id, now]);
    bus.publish(logged);
  }
  if (kind === 'burst') {
    started = wallClock();
    for (const logged of blocks) {
      for (const event of logged) sent.push([event.id, started]);
      bus.publish(logged);
    }
  }
  return { sent, started, published: wallClock() };
}
