import type { ChainBlock, ChainClient } from '../chain/chain-client.js';
import type { Hex } from '../common/evm.js';
import type { DetectedDeposit, MonitoredNetwork, WatchedToken } from './monitor.types.js';

/**
 * The deposits of one block into addresses for which `isWatched` holds: native transfers whose
 * receipt succeeded (receipts are fetched for the candidates only), internal transfers (ETH sent
 * by contract calls, from the block's traces when the node has them) and ERC-20 `Transfer` logs of
 * the network's tokens (fetched by block hash, so two forks are never mixed). Zero-value transfers
 * are no deposit (address-poisoning spam sends them). Matching costs one hash lookup per
 * transaction.
 */
export async function detectDeposits(
  client: ChainClient,
  network: MonitoredNetwork,
  tokens: readonly WatchedToken[],
  block: ChainBlock,
  isWatched: (address: string) => boolean,
): Promise<DetectedDeposit[]> {
  const candidates = block.transactions.filter((tx) => tx.to !== null && tx.value > 0n && isWatched(tx.to));
  const [statuses, logs] = await Promise.all([
    candidates.length > 0
      ? client.receiptStatuses(
          block.hash,
          candidates.map((tx) => tx.hash),
        )
      : new Map<Hex, boolean>(),
    tokens.length > 0
      ? client.transferLogs(
          block.hash,
          tokens.map((t) => t.contract),
        )
      : [],
  ]);
  const deposits: DetectedDeposit[] = [];
  for (const tx of candidates) {
    const status = statuses.get(tx.hash) ?? statuses.get(tx.hash.toLowerCase() as Hex);
    if (status === undefined) throw new Error(`no receipt for ${tx.hash} in block ${block.hash}`);
    if (!status) continue;
    deposits.push({
      txHash: lower(tx.hash),
      logIndex: -1,
      traceAddress: '',
      transferType: 'native',
      blockNumber: block.number,
      blockHash: lower(block.hash),
      from: lower(tx.from),
      wallet: lower(tx.to!),
      assetType: 'native',
      symbol: network.nativeSymbol,
      contract: null,
      decimals: network.nativeDecimals,
      amount: tx.value,
    });
  }
  // Internal transfers come from the block's traces, which only hold calls that took effect (no
  // failed transaction, no reverted call or call under one).
  for (const transfer of block.internalTransfers ?? []) {
    if (transfer.value === 0n || !isWatched(transfer.to)) continue;
    deposits.push({
      txHash: lower(transfer.transactionHash),
      logIndex: -1,
      traceAddress: transfer.traceAddress.join('.'),
      transferType: 'internal',
      blockNumber: block.number,
      blockHash: lower(block.hash),
      from: lower(transfer.from),
      wallet: lower(transfer.to),
      assetType: 'native',
      symbol: network.nativeSymbol,
      contract: null,
      decimals: network.nativeDecimals,
      amount: transfer.value,
    });
  }
  if (logs.length > 0) {
    const byContract = new Map(tokens.map((t) => [t.contract, t]));
    for (const log of logs) {
      const token = byContract.get(lower(log.token));
      if (!token || log.value === 0n || !isWatched(log.to)) continue;
      deposits.push({
        txHash: lower(log.transactionHash),
        logIndex: log.logIndex,
        traceAddress: '',
        transferType: 'token',
        blockNumber: block.number,
        blockHash: lower(block.hash),
        from: lower(log.from),
        wallet: lower(log.to),
        assetType: 'erc20',
        symbol: token.symbol,
        contract: token.contract,
        decimals: token.decimals,
        amount: log.value,
      });
    }
  }
  return deposits;
}

const lower = (value: string): Hex => value.toLowerCase() as Hex;

/** `work` over `items` with at most `limit` in flight; results in the order of `items`. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++;
      try {
        results[index] = await work(items[index]);
      } catch (error) {
        failed = true; // the other workers stop taking items
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
