import type { Hex } from '../common/evm.js';
import type { AssetType } from '../deposits/deposit.entity.js';
import type { FinalityRule } from '../networks/network.entity.js';

/** An enabled network as the monitor follows it. */
export interface MonitoredNetwork {
  id: string;
  key: string;
  /** Decimal string. */
  chainId: string;
  nativeSymbol: string;
  nativeDecimals: number;
  requiredConfirmations: number;
  finalityRule: FinalityRule;
}

/** One block of the persisted window (and the cursor: the window's last block). */
export interface WindowBlock {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
}

export interface FollowerState {
  /** Oldest first, hash-linked, ending at the cursor; empty before the first start. */
  window: WindowBlock[];
  /** The last wallet `watch_seq` this network's follower has accounted for. */
  walletSeq: bigint;
}

export interface WatchedToken {
  /** Lower-case. */
  contract: Hex;
  symbol: string;
  decimals: number;
}

/**
 * How a deposit's value came: `native` — the transaction's own value (top-level call); `internal`
 * — ETH sent by a contract from a call inside the transaction (see traceAddress); `token` — an
 * ERC-20 `Transfer` log.
 */
export type TransferType = 'native' | 'internal' | 'token';

/** A transfer into a watched address, as found in a block. */
export interface DetectedDeposit {
  txHash: Hex;
  /** -1 for ETH (native and internal transfers). */
  logIndex: number;
  /**
   * Of an internal transfer: its call's position in the transaction's call tree, dot-separated
   * (`0.1` = the second call made by the first call of the transaction); '' for the others. With
   * (tx, log index) it is the deposit's key: two internal transfers of one transaction are two
   * deposits, and a re-mined transaction yields the same addresses.
   */
  traceAddress: string;
  transferType: TransferType;
  blockNumber: bigint;
  blockHash: Hex;
  from: Hex;
  wallet: Hex;
  assetType: AssetType;
  symbol: string;
  contract: Hex | null;
  decimals: number;
  amount: bigint;
}

/** A history backfill still to do for one wallet (its `start_block`) on one network. */
export interface PendingBackfill {
  walletId: string;
  address: Hex;
  nextBlock: bigint;
  endBlock: bigint;
}

/** Another writer moved the cursor (a second leader, or a lost lock): the follower must stop. */
export class CursorMovedError extends Error {
  constructor(network: string, detail?: string) {
    super(`the cursor of ${network} was moved by another writer${detail ? ` (${detail})` : ''}`);
    this.name = 'CursorMovedError';
  }
}
