import { Logger } from '@nestjs/common';
import { toEventSelector } from 'viem';

import type { Hex } from '../common/evm.js';
import {
  type BlockHead,
  type ChainBlock,
  ChainClient,
  type ChainTransaction,
  type HeadListenerOptions,
  type InternalTransfer,
  type TransferLog,
  type Unsubscribe,
} from './chain-client.js';
import { HeadStream, type HeadSource } from './head-stream.js';
import { RpcResponseError } from './json-rpc-transport.js';

export const TRANSFER_TOPIC = toEventSelector('Transfer(address,address,uint256)');

/** Head-stream timing, from config.monitor (pollIntervalMs, stallTimeoutMs). */
export interface ChainClientOptions {
  /** Used in log lines, e.g. the network key. */
  name: string;
  chainId: bigint;
  pollIntervalMs: number;
  stallTimeoutMs: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * Read a block's transactions from `trace_block` when the node has it (default true). On anvil
   * a 200-transaction block costs ~2 ms this way against ~40 ms for `eth_getBlockByNumber(n,
   * true)` (which recovers every sender), and the traces carry each transaction's success too.
   */
  useTraces?: boolean;
  /**
   * Without `trace_block` (geth and most providers), read internal transfers with
   * `debug_traceBlockByHash` and the `callTracer` (default true).
   */
  debugTraces?: boolean;
  /** Told of every JSON-RPC request once it settled (metrics). */
  onRequest?: (method: string, outcome: RpcOutcome, seconds: number) => void;
}

/** `ok`; `rpc_error`: the node answered with an error; `failed`: no answer (transport, timeout). */
export type RpcOutcome = 'ok' | 'rpc_error' | 'failed';

/**
 * How many blocks' trace-derived statuses are kept for receiptStatuses (a follower asks right
 * after reading the block; with MONITOR_BACKFILL_BATCH up to 1000 and one batch prefetched, 2 x
 * 1000 blocks may be between the read and the question). Past it, the node is asked instead.
 */
const STATUS_CACHE_BLOCKS = 2048;

/** A chain read returned something that does not belong to the block asked for (it was replaced). */
export class BlockMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockMismatchError';
  }
}

export class ChainIdMismatchError extends Error {
  constructor(name: string, actual: bigint, expected: bigint) {
    super(`${name}: the node serves chain id ${actual}, expected ${expected}`);
    this.name = 'ChainIdMismatchError';
  }
}

interface RawHead {
  number: Hex;
  hash: Hex;
  parentHash: Hex;
  timestamp: Hex;
}
interface RawTransaction {
  hash: Hex;
  from: Hex;
  to: Hex | null;
  value: Hex;
  transactionIndex: Hex;
}
interface RawBlock extends RawHead {
  transactions: RawTransaction[];
}
interface RawHeaderWithHashes extends RawHead {
  transactions: Hex[];
}
/**
 * A Parity-style trace (`trace_block`): top-level ones (empty traceAddress) are the transactions,
 * the others the calls inside them (internal transfers).
 */
interface RawTrace {
  type: string;
  action: {
    from?: Hex;
    to?: Hex;
    value?: Hex;
    callType?: string;
    /** selfdestruct ('suicide'): the contract, who gets its balance, and the balance. */
    address?: Hex;
    refundAddress?: Hex;
    balance?: Hex;
  };
  result?: { address?: Hex } | null;
  error?: string;
  blockHash: Hex;
  transactionHash: Hex;
  transactionPosition: number;
  traceAddress: number[];
}
/** A geth `callTracer` frame (`debug_traceBlockByHash`). */
interface RawCallFrame {
  type: string;
  from: Hex;
  to?: Hex;
  value?: Hex;
  error?: string;
  calls?: RawCallFrame[];
}
interface RawCallTrace {
  txHash?: Hex;
  result?: RawCallFrame;
  error?: string;
}
interface RawReceipt {
  transactionHash: Hex;
  blockHash: Hex;
  status?: Hex;
}
interface RawLog {
  address: Hex;
  topics: Hex[];
  data: Hex;
  blockNumber: Hex;
  blockHash: Hex;
  transactionHash: Hex;
  logIndex: Hex;
  removed?: boolean;
}

const lower = (value: string): Hex => value.toLowerCase() as Hex;
const toHex = (value: bigint): Hex => `0x${value.toString(16)}`;

export function parseHead(raw: RawHead): BlockHead {
  return {
    number: BigInt(raw.number),
    hash: lower(raw.hash),
    parentHash: lower(raw.parentHash),
    timestamp: BigInt(raw.timestamp),
  };
}

function parseTransaction(raw: RawTransaction): ChainTransaction {
  return {
    hash: lower(raw.hash),
    from: lower(raw.from),
    to: raw.to === null || raw.to === undefined ? null : lower(raw.to),
    value: BigInt(raw.value),
    transactionIndex: Number(raw.transactionIndex),
  };
}

/**
 * The value-carrying calls inside the transactions of a `trace_block` answer that took effect: a
 * call, a contract creation or a selfdestruct with value, under no failed call (the transaction's
 * own top-level call included: a failed trace undoes everything below it). `delegatecall`,
 * `staticcall` and `callcode` move no ETH to another account.
 */
function internalTransfersOfTraces(traces: readonly RawTrace[]): InternalTransfer[] {
  const failed = new Set<string>();
  for (const t of traces) {
    if (t.error !== undefined) failed.add(`${t.transactionHash}:${t.traceAddress.join('.')}`);
  }
  const underFailure = (t: RawTrace): boolean => {
    if (failed.size === 0) return false;
    for (let depth = 0; depth <= t.traceAddress.length; depth++) {
      if (failed.has(`${t.transactionHash}:${t.traceAddress.slice(0, depth).join('.')}`)) return true;
    }
    return false;
  };
  const transfers: InternalTransfer[] = [];
  for (const t of traces) {
    if (t.traceAddress.length === 0) continue;
    let move: { from?: Hex; to?: Hex | null; value?: Hex } | undefined;
    if (t.type === 'call' && (t.action.callType ?? 'call') === 'call') move = t.action;
    else if (t.type === 'create') move = { ...t.action, to: t.result?.address ?? null };
    else if (t.type === 'suicide')
      move = { from: t.action.address, to: t.action.refundAddress, value: t.action.balance };
    if (!move?.to || !move.from || move.value === undefined || BigInt(move.value) === 0n) continue;
    if (underFailure(t)) continue;
    transfers.push({
      transactionHash: lower(t.transactionHash),
      traceAddress: t.traceAddress,
      from: lower(move.from),
      to: lower(move.to),
      value: BigInt(move.value),
    });
  }
  return transfers;
}

/**
 * The same from `callTracer` frames (one per transaction): a frame's position in its parents'
 * `calls` is its trace address. A frame with `error` (reverted, out of gas) and everything under it
 * moved nothing.
 */
function internalTransfersOfCallFrames(txHash: Hex, root: RawCallFrame): InternalTransfer[] {
  const transfers: InternalTransfer[] = [];
  const walk = (frame: RawCallFrame, address: number[]) => {
    if (frame.error !== undefined) return;
    const type = frame.type.toUpperCase();
    const moves = type === 'CALL' || type === 'CREATE' || type === 'CREATE2' || type === 'SELFDESTRUCT';
    if (address.length > 0 && moves && frame.to && frame.value !== undefined && BigInt(frame.value) > 0n) {
      transfers.push({
        transactionHash: lower(txHash),
        traceAddress: address,
        from: lower(frame.from),
        to: lower(frame.to),
        value: BigInt(frame.value),
      });
    }
    frame.calls?.forEach((call, i) => walk(call, [...address, i]));
  };
  walk(root, []);
  return transfers;
}

/** An address in a 32-byte topic: its last 20 bytes. */
const topicAddress = (topic: Hex): Hex => `0x${topic.slice(26).toLowerCase()}`;

/**
 * The part of a chain client that is plain JSON-RPC, whatever carries it (a node's socket or HTTP,
 * the Alchemy SDK's `send`). Adapters supply `request` and the head source; parsing and the head
 * stream's fallback/backoff/watchdog logic are shared.
 */
export abstract class RpcChainClient extends ChainClient {
  readonly chainId: bigint;
  protected readonly logger: Logger;
  /** Made on first subscribe: the adapter's fields are not set yet while this constructor runs. */
  private heads: HeadStream | null = null;
  /** Unknown until tried; false after the node said it has no trace_block. */
  private tracesSupported: boolean | undefined;
  /** Numbers of recently announced heads by hash (bounded), so a read by hash can go in parallel. */
  private readonly announced = new Map<Hex, bigint>();
  /** Receipt statuses learnt from traces, by block hash; insertion-ordered, bounded. */
  private readonly traceStatuses = new Map<Hex, Map<Hex, boolean>>();
  /** Unknown until tried; false after the node said it has no eth_getBlockReceipts. */
  private blockReceiptsSupported: boolean | undefined;
  /** Unknown until tried; false after the node said it has no debug_traceBlockByHash. */
  private debugTracesSupported: boolean | undefined;
  private noTracesSupportLogged = false;
  private closed = false;

  protected constructor(protected readonly options: ChainClientOptions) {
    super();
    this.chainId = options.chainId;
    this.logger = new Logger(`${new.target.name}:${options.name}`);
    const observe = options.onRequest;
    if (observe) {
      // Wraps the adapter's own `request` (on the prototype already) so every adapter is timed alike.
      const request = this.request;
      this.request = async <T>(method: string, params: readonly unknown[]): Promise<T> => {
        const start = performance.now();
        let outcome: RpcOutcome = 'failed';
        try {
          const result = await request.call(this, method, params);
          outcome = 'ok';
          return result as T;
        } catch (error) {
          if (error instanceof RpcResponseError) outcome = 'rpc_error';
          throw error;
        } finally {
          observe(method, outcome, (performance.now() - start) / 1000);
        }
      };
    }
  }

  protected abstract request<T>(method: string, params: readonly unknown[]): Promise<T>;
  protected abstract headSource(): HeadSource;
  /** Releases the adapter's connections (after the head stream has stopped). */
  protected abstract closeTransport(): Promise<void>;

  /** Throws when the node serves another chain than the network it was configured for. */
  async assertChainId(): Promise<void> {
    const actual = BigInt(await this.request<Hex>('eth_chainId', []));
    if (actual !== this.chainId) throw new ChainIdMismatchError(this.options.name, actual, this.chainId);
  }

  async latestHead(): Promise<BlockHead> {
    const raw = await this.request<RawHead | null>('eth_getBlockByNumber', ['latest', false]);
    if (raw === null) throw new Error(`${this.options.name}: the node returned no latest block`);
    return parseHead(raw);
  }

  async finalizedHead(): Promise<BlockHead | null> {
    try {
      const raw = await this.request<RawHead | null>('eth_getBlockByNumber', ['finalized', false]);
      return raw === null ? null : parseHead(raw);
    } catch (error) {
      // The node answered that it has no such tag (pre-merge chains, some L2s): not an outage.
      if (error instanceof RpcResponseError) return null;
      throw error;
    }
  }

  async blockHash(number: bigint): Promise<Hex | null> {
    const raw = await this.request<RawHead | null>('eth_getBlockByNumber', [toHex(number), false]);
    return raw === null ? null : lower(raw.hash);
  }

  /**
   * True once a block came with its internal transfers, false when the node has no trace method
   * (logged once), undefined before the first block was read.
   */
  get internalTransfers(): boolean | undefined {
    if (this.tracesSupported === true || this.debugTracesSupported === true) return true;
    const noTraceBlock = this.options.useTraces === false || this.tracesSupported === false;
    const noDebug = this.options.debugTraces === false || this.debugTracesSupported === false;
    return noTraceBlock && noDebug ? false : undefined;
  }

  async blockWithTransactions(ref: bigint | Hex): Promise<ChainBlock | null> {
    if (this.options.useTraces !== false && this.tracesSupported !== false) {
      const block = await this.blockFromTraces(ref);
      if (block !== undefined) return block;
    }
    const raw =
      typeof ref === 'bigint'
        ? await this.request<RawBlock | null>('eth_getBlockByNumber', [toHex(ref), true])
        : await this.request<RawBlock | null>('eth_getBlockByHash', [lower(ref), true]);
    if (raw === null) return null;
    const block: ChainBlock = {
      ...parseHead(raw),
      transactions: raw.transactions.map(parseTransaction),
      internalTransfers: null,
    };
    // Traces work on this node but did not match (the block was replaced between the reads) or
    // are missing for this block: read them again for exactly this one.
    block.internalTransfers =
      this.tracesSupported === true
        ? await this.internalTransfersByTraceBlock(block)
        : await this.internalTransfersByDebugTrace(block);
    return block;
  }

  /** `trace_block` for a block read whole; they must be its transactions, else it was replaced. */
  private async internalTransfersByTraceBlock(block: ChainBlock): Promise<InternalTransfer[] | null> {
    let traces: RawTrace[] | null;
    try {
      traces = await this.request<RawTrace[] | null>('trace_block', [toHex(block.number)]);
    } catch (error) {
      if (!(error instanceof RpcResponseError)) throw error;
      this.logger.warn(`block ${block.number} (${block.hash}) cannot be traced: ${error.message}`);
      return null;
    }
    const top = (traces ?? []).filter((t) => t.traceAddress.length === 0);
    const consistent =
      top.length === block.transactions.length &&
      top.every(
        (t, i) =>
          lower(t.blockHash) === block.hash && lower(t.transactionHash) === block.transactions[i].hash,
      );
    if (!consistent)
      throw new BlockMismatchError(`the traces of block ${block.number} are not of ${block.hash}`);
    return internalTransfersOfTraces(traces ?? []);
  }

  /**
   * Internal transfers of a block read whole (the node has no `trace_block`): geth's
   * `debug_traceBlockByHash` with the `callTracer` (by hash: the traces are of exactly this block).
   * Null when the node has no such method (logged once; internal transfers are then not seen on
   * this network) or cannot trace this block (pruned state; logged).
   */
  private async internalTransfersByDebugTrace(block: ChainBlock): Promise<InternalTransfer[] | null> {
    if (this.options.debugTraces === false || this.debugTracesSupported === false) {
      this.noTracesLogged();
      return null;
    }
    if (block.transactions.length === 0) return [];
    let traces: RawCallTrace[];
    try {
      traces = await this.request<RawCallTrace[]>('debug_traceBlockByHash', [
        block.hash,
        { tracer: 'callTracer' },
      ]);
    } catch (error) {
      if (this.debugTracesSupported === true) {
        if (!(error instanceof RpcResponseError)) throw error;
        this.logger.warn(`block ${block.number} (${block.hash}) cannot be traced: ${error.message}`);
        return null;
      }
      this.debugTracesSupported = false;
      this.noTracesLogged();
      return null;
    }
    if (traces.length !== block.transactions.length) {
      throw new BlockMismatchError(
        `${traces.length} traces for the ${block.transactions.length} txs of ${block.hash}`,
      );
    }
    this.debugTracesSupported = true;
    const statuses = new Map<Hex, boolean>();
    const transfers: InternalTransfer[] = [];
    traces.forEach((trace, i) => {
      const tx = block.transactions[i].hash;
      if (trace.txHash !== undefined && lower(trace.txHash) !== tx) {
        throw new BlockMismatchError(
          `trace of ${trace.txHash} at position ${i} of ${block.hash}, expected ${tx}`,
        );
      }
      if (trace.result === undefined) throw new BlockMismatchError(`no call trace for ${tx}: ${trace.error}`);
      statuses.set(tx, trace.result.error === undefined);
      transfers.push(...internalTransfersOfCallFrames(tx, trace.result));
    });
    this.rememberStatuses(block.hash, statuses);
    return transfers;
  }

  private noTracesLogged(): void {
    if (this.noTracesSupportLogged) return;
    this.noTracesSupportLogged = true;
    this.logger.warn(
      'the node offers no trace method (trace_block, debug_traceBlockByHash): ETH moved to watched ' +
        'addresses by contract calls (internal transfers) is not seen on this network',
    );
  }

  private rememberStatuses(blockHash: Hex, statuses: Map<Hex, boolean>): void {
    this.traceStatuses.set(blockHash, statuses);
    if (this.traceStatuses.size > STATUS_CACHE_BLOCKS) {
      this.traceStatuses.delete(this.traceStatuses.keys().next().value as Hex);
    }
  }

  /**
   * The block from its header (hashes only) and `trace_block`. Undefined when that path does not
   * apply: the node has no traces, or the traces are not exactly the header's transactions in
   * order (the block was replaced between the two reads) — the caller then reads the full block.
   */
  private async blockFromTraces(ref: bigint | Hex): Promise<ChainBlock | null | undefined> {
    let header: RawHeaderWithHashes | null;
    let traced: PromiseSettledResult<RawTrace[]>;
    const known = typeof ref === 'bigint' ? ref : this.announced.get(lower(ref));
    if (known !== undefined && this.tracesSupported === true) {
      // Both reads at once (one JSON-RPC batch over HTTP). Only once traces are known to work: a
      // provider may refuse a whole batch because of one method it does not serve.
      const [headerRead, traceRead] = await Promise.allSettled([
        typeof ref === 'bigint'
          ? this.request<RawHeaderWithHashes | null>('eth_getBlockByNumber', [toHex(ref), false])
          : this.request<RawHeaderWithHashes | null>('eth_getBlockByHash', [lower(ref), false]),
        this.request<RawTrace[]>('trace_block', [toHex(known)]),
      ]);
      if (headerRead.status === 'rejected') throw headerRead.reason;
      header = headerRead.value;
      traced = traceRead;
    } else {
      header =
        typeof ref === 'bigint'
          ? await this.request<RawHeaderWithHashes | null>('eth_getBlockByNumber', [toHex(ref), false])
          : await this.request<RawHeaderWithHashes | null>('eth_getBlockByHash', [lower(ref), false]);
      if (header === null) return null;
      [traced] = await Promise.allSettled([this.request<RawTrace[]>('trace_block', [header.number])]);
    }
    if (header === null) return null;
    if (traced.status === 'rejected') {
      const error: unknown = traced.reason;
      // Never had traces: stop asking, whatever the failure (a provider may refuse the method with
      // a bare HTTP error; traces are only ever a speed-up). Had them: a node error means this
      // block's are missing (pruned?), so read it whole; a transport error is an outage.
      if (this.tracesSupported !== true) {
        this.tracesSupported = false;
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.log(`node has no usable trace_block (${reason}); reading full blocks`);
        return undefined;
      }
      if (error instanceof RpcResponseError) return undefined;
      throw error;
    }
    this.tracesSupported = true;
    const traces = traced.value;
    const hash = lower(header.hash);
    const top = (traces ?? []).filter((t) => t.traceAddress.length === 0);
    const consistent =
      top.length === header.transactions.length &&
      top.every(
        (t, i) => lower(t.blockHash) === hash && lower(t.transactionHash) === lower(header.transactions[i]),
      );
    if (!consistent) return undefined;
    const statuses = new Map<Hex, boolean>();
    const transactions = top.map((t): ChainTransaction => {
      const txHash = lower(t.transactionHash);
      // A failed top-level call is exactly a receipt with status 0 (revert, out of gas, ...).
      statuses.set(txHash, t.error === undefined);
      return {
        hash: txHash,
        from: lower(t.action.from!),
        to: t.type === 'create' || t.action.to === undefined ? null : lower(t.action.to),
        value: BigInt(t.action.value ?? '0x0'),
        transactionIndex: t.transactionPosition,
      };
    });
    this.rememberStatuses(hash, statuses);
    return { ...parseHead(header), transactions, internalTransfers: internalTransfersOfTraces(traces ?? []) };
  }

  /**
   * From the block's traces when blockWithTransactions read them (a block hash names one exact
   * block, so they cannot be stale); else one `eth_getBlockReceipts` for the block (by hash), or
   * per-transaction receipts sent as one batch when the node lacks it. A receipt from another block means the block was replaced
   * meanwhile: that is a BlockMismatchError, never a silently wrong status.
   */
  async receiptStatuses(blockHash: Hex, txHashes: readonly Hex[]): Promise<Map<Hex, boolean>> {
    const statuses = new Map<Hex, boolean>();
    if (txHashes.length === 0) return statuses;
    const hash = lower(blockHash);
    const wanted = new Set(txHashes.map(lower));
    const traced = this.traceStatuses.get(hash);
    if (traced !== undefined && [...wanted].every((tx) => traced.has(tx))) {
      for (const tx of wanted) statuses.set(tx, traced.get(tx)!);
      return statuses;
    }
    let receipts: (RawReceipt | null)[] | null = null;
    if (this.blockReceiptsSupported !== false) {
      try {
        receipts = await this.request<RawReceipt[] | null>('eth_getBlockReceipts', [hash]);
        this.blockReceiptsSupported = true;
        if (receipts === null) throw new BlockMismatchError(`the node does not know block ${hash}`);
      } catch (error) {
        if (!(error instanceof RpcResponseError) || this.blockReceiptsSupported === true) throw error;
        this.blockReceiptsSupported = false;
        this.logger.log('node has no eth_getBlockReceipts; using per-transaction receipts');
      }
    }
    if (receipts === null) {
      receipts = await Promise.all(
        [...wanted].map((tx) => this.request<RawReceipt | null>('eth_getTransactionReceipt', [tx])),
      );
    }
    for (const receipt of receipts) {
      if (receipt === null) continue;
      const tx = lower(receipt.transactionHash);
      if (!wanted.has(tx)) continue;
      if (lower(receipt.blockHash) !== hash) {
        throw new BlockMismatchError(`receipt of ${tx} is in block ${receipt.blockHash}, not ${hash}`);
      }
      // Pre-Byzantium receipts have no status; those chains are not supported for deposits.
      statuses.set(tx, receipt.status === '0x1');
    }
    for (const tx of wanted) {
      if (!statuses.has(tx)) throw new BlockMismatchError(`no receipt for ${tx} in block ${hash}`);
    }
    return statuses;
  }

  /** ERC-20 Transfer logs; ERC-721 Transfers (4 topics, the id indexed) are not ERC-20 and are skipped. */
  async transferLogs(blockHash: Hex, tokens: readonly Hex[]): Promise<TransferLog[]> {
    if (tokens.length === 0) return [];
    const hash = lower(blockHash);
    const logs = await this.request<RawLog[]>('eth_getLogs', [
      { blockHash: hash, address: tokens.map(lower), topics: [TRANSFER_TOPIC] },
    ]);
    const transfers: TransferLog[] = [];
    for (const log of logs) {
      if (log.removed === true || log.topics.length !== 3 || log.data.length !== 66) continue;
      if (lower(log.blockHash) !== hash)
        throw new BlockMismatchError(`log of ${log.blockHash} returned for ${hash}`);
      transfers.push({
        blockNumber: BigInt(log.blockNumber),
        blockHash: hash,
        transactionHash: lower(log.transactionHash),
        logIndex: Number(log.logIndex),
        token: lower(log.address),
        from: topicAddress(log.topics[1]),
        to: topicAddress(log.topics[2]),
        value: BigInt(log.data),
      });
    }
    return transfers;
  }

  subscribeHeads(options: HeadListenerOptions): Unsubscribe {
    if (this.closed) throw new Error(`${this.options.name}: the chain client is closed`);
    this.heads ??= new HeadStream(this.headSource(), {
      pollIntervalMs: this.options.pollIntervalMs,
      stallTimeoutMs: this.options.stallTimeoutMs,
      initialBackoffMs: this.options.initialBackoffMs,
      maxBackoffMs: this.options.maxBackoffMs,
      logger: this.logger,
    });
    return this.heads.subscribe({
      ...options,
      onHead: (head) => {
        this.announced.set(head.hash, head.number);
        if (this.announced.size > STATUS_CACHE_BLOCKS)
          this.announced.delete(this.announced.keys().next().value as Hex);
        options.onHead(head);
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.heads?.close();
    await this.closeTransport();
  }
}
