/**
 * Chain access benchmark, on a real anvil node:
 * - block reads: a 200-transaction block with its transactions and receipt statuses, through
 *   `trace_block` (our default when the node has it) and through full blocks + receipts, over ws and
 *   http, one at a time and 8 in flight;
 * - head latency: from `evm_mine` returning to the head reaching a JsonRpcChainClient listener, next
 *   to a bare `eth_subscribe` newHeads socket on the same node (the floor), and to the block with its
 *   transactions being read.
 */
import { performance } from 'node:perf_hooks';

import { WebSocket } from 'ws';

import type { BlockHead } from '../src/chain/chain-client.js';
import { JsonRpcChainClient } from '../src/chain/json-rpc-chain-client.js';
import type { Hex } from '../src/common/evm.js';
import { ANVIL_ACCOUNTS } from '../src/devnet/devnet-tools.js';
import { type Anvil, startAnvil } from '../test/helpers/anvil.js';
import type { BenchRow, BenchSection, BenchSectionRunner } from './bench-types.js';

const TX_PER_BLOCK = 200;
const ms = (value: number): string => `${value.toFixed(2)} ms`;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** Sends one block's worth of plain transfers (fixed gas and nonces: no estimation, no races). */
async function sendTransfers(anvil: Anvil, nonces: Map<Hex, number>, block: number): Promise<void> {
  const calls = Array.from({ length: TX_PER_BLOCK }, (_, i) => {
    const from = ANVIL_ACCOUNTS[i % ANVIL_ACCOUNTS.length].address;
    const nonce = nonces.get(from) ?? 0;
    nonces.set(from, nonce + 1);
    const to = `0x${(block * TX_PER_BLOCK + i + 0x1000).toString(16).padStart(40, '0')}`;
    return {
      jsonrpc: '2.0',
      id: i,
      method: 'eth_sendTransaction',
      params: [{ from, to, value: '0x1', gas: '0x5208', nonce: `0x${nonce.toString(16)}` }],
    };
  });
  const response = await fetch(anvil.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls),
  });
  const body = (await response.json()) as { error?: { message: string } }[];
  const failed = body.find((r) => r.error);
  if (failed) throw new Error(`sending transfers: ${failed.error!.message}`);
}

/** A rate for the table: whole numbers, and one decimal under 10 (the callTracer row reads 0.2). */
const rate = (perSecond: number): string =>
  perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));

/**
 * `useTraces`: `trace_block` (anvil's default path). Without it, `debugTraces` says whether
 * internal transfers are read with `debug_traceBlockByHash` + `callTracer` (a geth node) or not at
 * all (a node with neither trace API): the full-block rows measure each separately.
 */
function client(url: string, useTraces: boolean, debugTraces = false): JsonRpcChainClient {
  return new JsonRpcChainClient({
    name: 'bench',
    chainId: 31337n,
    url,
    pollIntervalMs: 1_000,
    stallTimeoutMs: 600_000,
    useTraces,
    debugTraces,
  });
}

/** Subscribes (so a ws client has its socket) and resolves once live. */
async function live(chain: JsonRpcChainClient, onHead: (head: BlockHead) => void = () => undefined) {
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const unsubscribe = chain.subscribeHeads({ onHead, onReconnect: () => ready() });
  await isReady;
  return unsubscribe;
}

async function readBlocks(chain: JsonRpcChainClient, count: number, inFlight: number): Promise<number> {
  let next = 1;
  let transactions = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next <= count) {
        const number = BigInt(next++);
        const block = await chain.blockWithTransactions(number);
        if (!block) throw new Error(`block ${number} missing`);
        const statuses = await chain.receiptStatuses(
          block.hash,
          block.transactions.map((t) => t.hash),
        );
        if (statuses.size !== TX_PER_BLOCK) throw new Error(`block ${number}: ${statuses.size} statuses`);
        transactions += block.transactions.length;
      }
    }),
  );
  if (transactions !== count * TX_PER_BLOCK) throw new Error(`read ${transactions} transactions`);
  return (performance.now() - started) / count;
}

export const run: BenchSectionRunner = async (ctx) => {
  const blocks = Math.max(10, Math.round(100 * ctx.scale));
  const heads = Math.max(20, Math.round(100 * ctx.scale));
  const rows: BenchRow[] = [];
  const anvil = await startAnvil();
  try {
    ctx.log(`filling ${blocks} blocks of ${TX_PER_BLOCK} transfers`);
    const nonces = new Map<Hex, number>();
    for (let b = 0; b < blocks; b += 1) {
      await sendTransfers(anvil, nonces, b);
      await anvil.mine();
    }

    // [label, url, trace_block, debug_traceBlockByHash, in flight, blocks read]. Full-block reads
    // are ~20x slower than trace_block: a tenth of the blocks shows the rate. Anvil's callTracer
    // takes seconds for a 200-transaction block (geth's native tracer does not): a few blocks, one
    // at a time, or its answers time out.
    const few = Math.max(5, Math.round(blocks / 10));
    const modes: [string, string, boolean, boolean, number, number][] = [
      ['traces, ws', anvil.wsUrl, true, false, 1, blocks],
      ['traces, ws, 8 in flight', anvil.wsUrl, true, false, 8, blocks],
      ['traces, http', anvil.httpUrl, true, false, 1, blocks],
      ['full blocks + receipts, no tracing, ws', anvil.wsUrl, false, false, 1, few],
      ['full blocks + receipts, no tracing, ws, 8 in flight', anvil.wsUrl, false, false, 8, few],
      ['full blocks + debug_traceBlockByHash (callTracer), ws', anvil.wsUrl, false, true, 1, 3],
    ];
    for (const [label, url, useTraces, debugTraces, inFlight, count] of modes) {
      const chain = client(url, useTraces, debugTraces);
      const unsubscribe = url.startsWith('ws') ? await live(chain) : () => undefined;
      const perBlock = await readBlocks(chain, count, inFlight);
      unsubscribe();
      await chain.close();
      rows.push({
        metric: `read a ${TX_PER_BLOCK}-tx block + statuses (${label})`,
        value: `${ms(perBlock)} (${rate(1000 / perBlock)} blocks/s)`,
      });
      ctx.log(`${label}: ${ms(perBlock)} per block`);
    }

    // Head latency: a bare newHeads socket (the floor) and our client on the same node.
    const floor = new Map<string, number>();
    const ours = new Map<string, number>();
    const withBlock = new Map<string, number>();
    const bare = new WebSocket(anvil.wsUrl);
    await new Promise<void>((resolve, reject) => {
      bare.once('open', () => resolve());
      bare.once('error', reject);
    });
    bare.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { params?: { result?: { hash?: string } } };
      const hash = message.params?.result?.hash;
      if (hash) floor.set(hash, performance.now());
    });
    bare.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_subscribe', params: ['newHeads'] }));
    const chain = client(anvil.wsUrl, true);
    const unsubscribe = await live(chain, (head) => {
      ours.set(head.hash, performance.now());
      chain.blockWithTransactions(head.hash).then(
        () => withBlock.set(head.hash, performance.now()),
        () => undefined,
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const mined: { hash: string; at: number }[] = [];
    for (let i = 0; i < heads; i += 1) {
      await sendTransfers(anvil, nonces, blocks + i);
      const at = performance.now();
      await anvil.mine();
      const { hash } = await anvil.rpc<{ hash: string }>('eth_getBlockByNumber', ['latest', false]);
      mined.push({ hash, at });
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    const deadline = Date.now() + 10_000;
    while (mined.some((m) => !withBlock.has(m.hash)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    unsubscribe();
    await chain.close();
    bare.close();
    const latencies = (arrivals: Map<string, number>) =>
      mined.filter((m) => arrivals.has(m.hash)).map((m) => arrivals.get(m.hash)! - m.at);
    const overhead = mined
      .filter((m) => floor.has(m.hash) && ours.has(m.hash))
      .map((m) => ours.get(m.hash)! - floor.get(m.hash)!);
    for (const [label, values] of [
      ['head, bare eth_subscribe (floor)', latencies(floor)],
      ['head, JsonRpcChainClient', latencies(ours)],
      ['head + block read (traces), JsonRpcChainClient', latencies(withBlock)],
      ['client minus floor, same head', overhead],
    ] as const) {
      rows.push({
        metric: `${label} p50 / p99`,
        value: `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`,
      });
    }
    const missing = mined.filter((m) => !ours.has(m.hash)).length;
    rows.push({
      metric: 'heads missed by the client',
      value: String(missing),
      target: '0',
      pass: missing === 0,
    });
  } finally {
    await anvil.stop();
  }
  const section: BenchSection = {
    title: 'Chain access (JSON-RPC adapter on anvil)',
    rows,
    notes: [
      `${blocks} blocks of ${TX_PER_BLOCK} ETH transfers; reads go through JsonRpcChainClient.blockWithTransactions + receiptStatuses.`,
      'traces = eth_getBlockByNumber(n, false) + trace_block (statuses from the traces); full blocks + receipts = eth_getBlockByNumber(n, true) + eth_getBlockReceipts (a node with no trace API: no internal transfers); full blocks + debug_traceBlockByHash = eth_getBlockByNumber(n, true) + the callTracer (geth without trace_block; statuses from the traces). Anvil runs the callTracer far slower than geth does.',
      `head latency over ${heads} blocks of ${TX_PER_BLOCK} transfers mined one by one (evm_mine), measured from the moment evm_mine was sent; anvil itself announces a block tens of ms after mining it, which the floor shows.`,
    ],
  };
  return section;
};
