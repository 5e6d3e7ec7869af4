/** One price from the exchange: exact (scaled bigint and its text) with the exchange's own timestamp. */
export interface PriceTick {
  /** Upper-case, e.g. BTCUSDT. */
  readonly symbol: string;
  /** Scaled by 10^18 (see decimal.ts). */
  readonly price: bigint;
  /** As the exchange wrote it, e.g. "43210.12000000". */
  readonly priceText: string;
  /** Exchange event time, ms since the epoch. */
  readonly timeMs: number;
  /** The price 24 h before, when the stream gives it (`@miniTicker`'s open `o`), as the exchange wrote it. */
  readonly openText?: string;
  /** When this process received it, ms since the epoch. */
  readonly receivedAtMs: number;
}

export interface FeedStatus {
  connected: boolean;
  /** Connections opened since start (1 = never reconnected). */
  connections: number;
  lastMessageAtMs: number | undefined;
}

/** Connected, and its last message is younger than `staleMs` (what readiness and metrics call up). */
export function feedIsUp(status: FeedStatus, staleMs: number, now = Date.now()): boolean {
  return status.connected && status.lastMessageAtMs !== undefined && now - status.lastMessageAtMs <= staleMs;
}

/** A live source of prices (the DI token; Binance is the adapter). */
export abstract class PriceFeed {
  abstract readonly symbols: readonly string[];
  abstract onPrice(listener: (tick: PriceTick) => void): () => void;
  abstract start(): void;
  abstract stop(): Promise<void>;
  abstract status(): FeedStatus;
}
