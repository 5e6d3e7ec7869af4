/**
 * Live deposits: what the wallet rooms send (`deposit_detected`, `confirmation_update`,
 * `deposit_completed`, `deposit_orphaned`, each `{ event_id, type, data }`) merged into what REST
 * returned. Pure functions, so the rules are unit-tested (deposit-events.spec.ts):
 * - an event is applied to its deposit only when its event_id is newer than the last one applied
 *   to that deposit: a replayed or duplicated event changes nothing, an old one never overwrites a
 *   newer state;
 * - `lastEventId` is the highest id seen: after a reconnect the app subscribes with
 *   `since_event_id = lastEventId`, so the server replays exactly what was missed (no gap);
 * - an orphaned deposit stays, shown as orphaned.
 */

export type DepositStatus = 'pending' | 'completed' | 'orphaned';

export interface DepositView {
  id: string;
  network: string;
  chain_id: string;
  tx_hash: string;
  log_index: number;
  block_number: string;
  from_address: string;
  wallet_address: string;
  asset: { type: 'native' | 'erc20'; symbol: string; contract: string | null; decimals: number };
  amount: string;
  confirmations: number;
  required_confirmations: number;
  status: DepositStatus;
  detected_at?: string;
}

export const DEPOSIT_EVENT_NAMES = [
  'deposit_detected',
  'confirmation_update',
  'deposit_completed',
  'deposit_orphaned',
] as const;

export interface DepositEvent {
  event_id: number;
  type: (typeof DEPOSIT_EVENT_NAMES)[number];
  data: Omit<DepositView, 'id' | 'detected_at'> & { deposit_id: string };
}

export interface LiveDeposits {
  /** The highest event_id received: where a replay starts after a reconnect. */
  lastEventId: number;
  /** Deposits events told about, with the id of the event that last changed each; newest first. */
  rows: Array<{ row: DepositView; eventId: number; firstEventId: number }>;
}

export const emptyLive = (): LiveDeposits => ({ lastEventId: 0, rows: [] });

export function applyDepositEvent(state: LiveDeposits, event: DepositEvent): LiveDeposits {
  const lastEventId = Math.max(state.lastEventId, event.event_id);
  const { deposit_id, ...data } = event.data;
  const index = state.rows.findIndex((entry) => entry.row.id === deposit_id);
  if (index >= 0 && state.rows[index].eventId >= event.event_id) {
    return lastEventId === state.lastEventId ? state : { ...state, lastEventId };
  }
  const previous = index >= 0 ? state.rows[index] : undefined;
  const row: DepositView = { ...previous?.row, ...data, id: deposit_id };
  const entry = { row, eventId: event.event_id, firstEventId: previous?.firstEventId ?? event.event_id };
  const rows = index >= 0 ? state.rows.with(index, entry) : [entry, ...state.rows];
  return { lastEventId, rows: rows.sort((a, b) => b.firstEventId - a.firstEventId) };
}

export const applyDepositEvents = (state: LiveDeposits, events: readonly DepositEvent[]): LiveDeposits =>
  events.reduce(applyDepositEvent, state);

/**
 * What to show: the REST page with every row an event changed replaced by its live version, and
 * (on the first page only) the deposits REST has not returned yet on top, newest first. `wallet`
 * limits the live rows to one wallet's (lower-case address) for the per-wallet view.
 */
export function mergeDeposits(
  rest: readonly DepositView[],
  live: LiveDeposits,
  options: { firstPage: boolean; wallet?: string },
): DepositView[] {
  const liveById = new Map(live.rows.map((entry) => [entry.row.id, entry.row]));
  const merged = rest.map((row) => {
    const fresh = liveById.get(row.id);
    return fresh ? { ...row, ...fresh } : row;
  });
  if (!options.firstPage) return merged;
  const known = new Set(rest.map((row) => row.id));
  const added = live.rows
    .map((entry) => entry.row)
    .filter(
      (row) =>
        !known.has(row.id) &&
        (options.wallet === undefined || row.wallet_address.toLowerCase() === options.wallet),
    );
  return [...added, ...merged];
}
