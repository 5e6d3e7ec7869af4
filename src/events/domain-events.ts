/**
 * The one typed map of domain events. Payloads carry ids and values, never entities; the module
 * that reacts owns its listener. Every event is written to `event_log` in the same transaction as
 * the change it describes, then published on the in-process EventBus after commit.
 */

export interface AssetPayload {
  type: 'native' | 'erc20';
  symbol: string;
  /** EIP-55 checksummed contract, or null for the native coin. */
  contract: string | null;
  decimals: number;
}

/** `data` of every deposit event (snake_case: it goes to clients as is). */
export interface DepositEventData {
  deposit_id: string;
  network: string;
  chain_id: string;
  tx_hash: string;
  log_index: number;
  /** `native` (the transaction's own value), `internal` (sent by a contract call) or `token`. */
  transfer_type: 'native' | 'internal' | 'token';
  /** Of an internal transfer: its call's position in the call tree; null otherwise. */
  trace_address: number[] | null;
  block_number: string;
  block_hash: string;
  from_address: string;
  /** EIP-55 checksummed. */
  wallet_address: string;
  asset: AssetPayload;
  /** Whole units, exact decimal string. */
  amount: string;
  amount_base_units: string;
  confirmations: number;
  required_confirmations: number;
  status: 'pending' | 'completed' | 'orphaned';
}

/**
 * `data` of `price_alert_triggered`: one message per user per coalescing window, listing every rule
 * of that user that fired in it (a burst is one message, not many).
 */
export interface PriceAlertEventData {
  user_id: string;
  /** The socket delivery this message is (alert history shows it per firing); always set by the dispatcher. */
  delivery_id?: string;
  alerts: Array<{
    firing_id: string;
    alert_id: string;
    symbol: string;
    condition: 'above' | 'below' | 'crosses_up' | 'crosses_down' | 'pct_change';
    /** Exact decimal string: a price, or a signed percent for pct_change. */
    threshold: string;
    window_seconds: number | null;
    /** Exact decimal string as the exchange sent it. */
    price: string;
    /** Exchange time of that price (ISO 8601). */
    price_time: string;
    triggered_at: string;
  }>;
}

export interface DomainEvents {
  'deposit.detected': DepositEventData;
  'deposit.confirmation': DepositEventData;
  'deposit.completed': DepositEventData;
  'deposit.orphaned': DepositEventData;
  'price_alert.triggered': PriceAlertEventData;
}

export type DomainEventType = keyof DomainEvents;

/** The Socket.IO event name each domain event is emitted under. */
export const SOCKET_EVENT_NAMES: { readonly [K in DomainEventType]: string } = {
  'deposit.detected': 'deposit_detected',
  'deposit.confirmation': 'confirmation_update',
  'deposit.completed': 'deposit_completed',
  'deposit.orphaned': 'deposit_orphaned',
  'price_alert.triggered': 'price_alert_triggered',
};

/** Rooms: a wallet's is its lower-case address; a user's is `user:<id>`. */
export const walletRoom = (address: string): string => address.toLowerCase();
export const userRoom = (userId: string): string => `user:${userId}`;

export type NewEvent = {
  [K in DomainEventType]: { type: K; room: string; data: DomainEvents[K] };
}[DomainEventType];

/** An event as recorded: `id` grows monotonically in commit order. */
export type LoggedEvent = NewEvent & { id: number; created_at: string };
