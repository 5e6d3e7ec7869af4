import type { Hex } from '../common/evm.js';

/** A block as the head stream announces it. Numbers are bigint, hashes lower-case hex. */
export interface BlockHead {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
  /** Seconds since the epoch, from the block header. */
  timestamp: bigint;
}

export interface ChainTransaction {
  hash: Hex;
  from: Hex;
  /** null for a contract creation. */
  to: Hex | null;
  value: bigint;
  transactionIndex: number;
}

export interface ChainBlock extends BlockHead {
  transactions: ChainTransaction[];
}

/** An ERC-20 `Transfer(address indexed from, address indexed to, uint256 value)` log. */
export interface TransferLog {
  blockNumber: bigint;
  blockHash: Hex;
  transactionHash: Hex;
  logIndex: number;
  /** The token contract, lower-case. */
  token: Hex;
  from: Hex;
  to: Hex;
  value: bigint;
}

export type Unsubscribe = () => void;

export interface HeadListenerOptions {
  /** Called with every new head, in the order the node announces them (may skip or repeat heights). */
  onHead: (head: BlockHead) => void;
  /** Called when the stream (re)connects, so the caller can backfill what it may have missed. */
  onReconnect?: () => void;
}

/**
 * Access to one EVM chain. Adapters: plain JSON-RPC (any node, ws or http) and Alchemy. The head
 * stream survives a dropped socket: it falls back to polling, reconnects with backoff, and a
 * stall watchdog forces a reconnect when no head arrives for too long.
 */
export abstract class ChainClient {
  abstract readonly chainId: bigint;
  /** Throws ChainIdMismatchError when the node serves another chain than `chainId`. */
  abstract assertChainId(): Promise<void>;
  abstract latestHead(): Promise<BlockHead>;
  /** The chain's finalized block, or null when the node does not report one. */
  abstract finalizedHead(): Promise<BlockHead | null>;
  /** A block with its transactions by number or hash; null when the node does not have it. */
  abstract blockWithTransactions(ref: bigint | Hex): Promise<ChainBlock | null>;
  /** Receipt status (true = success) of the given transactions of one block. */
  abstract receiptStatuses(blockHash: Hex, txHashes: readonly Hex[]): Promise<Map<Hex, boolean>>;
  /** Transfer logs of the given token contracts in one block (by hash, so forks are never mixed). */
  abstract transferLogs(blockHash: Hex, tokens: readonly Hex[]): Promise<TransferLog[]>;
  abstract subscribeHeads(options: HeadListenerOptions): Unsubscribe;
  abstract close(): Promise<void>;
}

/** Makes the ChainClient of a network; the DI token the monitor asks for. */
export abstract class ChainClientFactory {
  /** Null when no endpoint is configured for that network (it is then not followed). */
  abstract create(network: { key: string; chainId: bigint }): ChainClient | null;
}
