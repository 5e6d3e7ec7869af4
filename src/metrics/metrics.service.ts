import { constants, type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';

import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { feedIsUp, PriceFeed } from '../alerts/feed/price-feed.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';

/** What a chain follower of this process reports at scrape time (see ChainFollower.status). */
export interface FollowedNetwork {
  network: string;
  /** This process holds the network's lock (else another process leads it, or none can). */
  leading: boolean;
  /** The newest head the node announced; undefined before the first. */
  head: bigint | undefined;
  /** The last processed block; undefined before start. */
  cursor: bigint | undefined;
  /** Leading the network and not stalled (see ChainFollower.status). */
  up: boolean;
}

export type NotificationChannel = 'email' | 'socket' | 'webhook';
export type CommitPhase = 'acquire' | 'statements' | 'event_log_append' | 'commit' | 'total';

/** How many announced heads per network are remembered for the detection histogram. */
const SEEN_HEADS_KEPT = 256;
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * This process's Prometheus metrics (one Registry per application, so several apps in one test
 * process do not share counters). Names are an interface: dashboards and alert rules in ops/ rely
 * on them, docs/operations.md lists each one.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  readonly registry = new Registry();
  private readonly sources = new Set<() => readonly FollowedNetwork[]>();
  private readonly seenHeads = new Map<string, Map<string, number>>();
  private readonly gcObserver: PerformanceObserver;

  private readonly chainHead = this.chainGauge(
    'deposit_monitor_chain_head_block',
    'Newest head the node announced',
  );
  private readonly cursorBlock = this.chainGauge(
    'deposit_monitor_cursor_block',
    'Last block the follower processed (committed)',
  );
  private readonly lagBlocks = this.chainGauge(
    'deposit_monitor_lag_blocks',
    'Announced head minus the cursor, in blocks',
  );
  private readonly followerUp = this.chainGauge(
    'deposit_monitor_follower_up',
    '1 when this process leads the network and its follower is not stalled, else 0',
  );
  readonly detectionSeconds = new Histogram({
    name: 'deposit_monitor_detection_seconds',
    help: 'From the head announcement of a block to its deposits being committed',
    labelNames: ['network'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly deposits = new Counter({
    name: 'deposit_monitor_deposits_total',
    help: 'Deposit state changes committed by this process',
    labelNames: ['network', 'asset_type', 'event'],
    registers: [this.registry],
  });
  readonly reorgs = new Counter({
    name: 'deposit_monitor_reorgs_total',
    help: 'Reorganisations handled',
    labelNames: ['network'],
    registers: [this.registry],
  });
  readonly reorgDepth = new Histogram({
    name: 'deposit_monitor_reorg_depth',
    help: 'Blocks dropped per reorganisation',
    labelNames: ['network'],
    buckets: [1, 2, 3, 5, 8, 13, 21, 34, 64, 128, 256],
    registers: [this.registry],
  });
  readonly rpcRequests = new Counter({
    name: 'deposit_monitor_rpc_requests_total',
    help: 'JSON-RPC requests to chain nodes',
    labelNames: ['network', 'method', 'outcome'],
    registers: [this.registry],
  });
  readonly rpcSeconds = new Histogram({
    name: 'deposit_monitor_rpc_request_seconds',
    help: 'JSON-RPC request latency',
    labelNames: ['network', 'method'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private socketCount: (() => number) | undefined;
  private readonly socketClients: Gauge = new Gauge({
    name: 'deposit_monitor_socket_clients',
    help: 'Socket.IO clients connected (authenticated) to this process',
    registers: [this.registry],
    collect: () => this.socketClients.set(this.socketCount?.() ?? 0),
  });
  readonly eventsEmitted = new Counter({
    name: 'deposit_monitor_events_emitted_total',
    help: 'Domain events committed and published by this process, by Socket.IO event name',
    labelNames: ['type'],
    registers: [this.registry],
  });
  private readonly priceFeedUp: Gauge = new Gauge({
    name: 'deposit_monitor_price_feed_up',
    help: '1 when the exchange feed is connected and its last message is fresh (absent without ALERTS_ENABLED)',
    registers: [this.registry],
    collect: () => {
      const feed = this.priceFeed();
      this.priceFeedUp.reset();
      if (feed)
        this.priceFeedUp.set(feedIsUp(feed.status(), this.config.alerts.priceStaleSeconds * 1000) ? 1 : 0);
    },
  });
  readonly alertFirings = new Counter({
    name: 'deposit_monitor_alert_firings_total',
    help: 'Price alert firings recorded',
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'deposit_monitor_notifications_total',
    help: 'Notification deliveries by channel and outcome (sent, failed)',
    labelNames: ['channel', 'outcome'],
    registers: [this.registry],
  });
  /** The slow-commit tail (docs/monitor.md): where a block's transaction spends its time. */
  readonly commitSeconds = new Histogram({
    name: 'deposit_monitor_commit_seconds',
    help: 'Monitor transactions by phase: acquire (pool + BEGIN), statements, event_log_append (includes its lock wait), commit, total',
    labelNames: ['operation', 'phase'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    registers: [this.registry],
  });
  readonly gcPauseSeconds = new Histogram({
    name: 'deposit_monitor_gc_pause_seconds',
    help: 'Garbage collection pauses (perf_hooks), by kind',
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2],
    registers: [this.registry],
  });

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {
    collectDefaultMetrics({ register: this.registry });
    // One observer per application; prom-client's nodejs_gc_duration_seconds has coarser buckets.
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
        this.gcPauseSeconds.observe({ kind: GC_KINDS[kind ?? 0] ?? 'other' }, entry.duration / 1000);
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  onModuleDestroy(): void {
    this.gcObserver.disconnect();
    this.sources.clear();
    this.socketCount = undefined;
  }

  /** Text exposition of every metric of this process. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** The exchange feed of this process, when it runs one (ALERTS_ENABLED, API roles). */
  priceFeed(): PriceFeed | undefined {
    try {
      return this.moduleRef.get(PriceFeed, { strict: false });
    } catch {
      return undefined;
    }
  }

  /** Registers where chain figures are read at scrape time; returns the unregister function. */
  followChains(source: () => readonly FollowedNetwork[]): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** Where the gateway's connected sockets are counted at scrape time. */
  countSockets(source: () => number): void {
    this.socketCount = source;
  }

  /** A head was announced: remembered so the block's deposits can be timed when committed. */
  headSeen(network: string, number: bigint, atMs = Date.now()): void {
    let seen = this.seenHeads.get(network);
    if (!seen) this.seenHeads.set(network, (seen = new Map()));
    const key = number.toString();
    if (seen.has(key)) return;
    seen.set(key, atMs);
    if (seen.size > SEEN_HEADS_KEPT) seen.delete(seen.keys().next().value as string);
  }

  /** When the head of `block` was first announced, if it was (catch-up blocks are not). */
  headSeenAt(network: string, block: string): number | undefined {
    return this.seenHeads.get(network)?.get(block);
  }

  /** For ChainClientOptions.onRequest of one network's client. */
  rpcObserver(network: string): (method: string, outcome: string, seconds: number) => void {
    return (method, outcome, seconds) => {
      this.rpcRequests.inc({ network, method, outcome });
      this.rpcSeconds.observe({ network, method }, seconds);
    };
  }

  /** Times one transaction's phases: `mark(phase)` closes the phase that ran since the last mark. */
  commitTimer(operation: string): { mark(phase: Exclude<CommitPhase, 'total'>): void; done(): void } {
    const start = performance.now();
    let last = start;
    return {
      mark: (phase) => {
        const now = performance.now();
        this.commitSeconds.observe({ operation, phase }, (now - last) / 1000);
        last = now;
      },
      done: () =>
        this.commitSeconds.observe({ operation, phase: 'total' }, (performance.now() - start) / 1000),
    };
  }

  /** The chain gauges are read from the followers at scrape time, never set in between. */
  private chainGauge(name: string, help: string): Gauge {
    return new Gauge({
      name,
      help,
      labelNames: ['network'],
      registers: [this.registry],
      collect: () => this.collectChains(),
    });
  }

  private collectChains(): void {
    for (const gauge of [this.chainHead, this.cursorBlock, this.lagBlocks, this.followerUp]) gauge?.reset();
    for (const source of this.sources) {
      for (const n of source()) {
        const labels = { network: n.network };
        this.followerUp.set(labels, n.up ? 1 : 0);
        // Block numbers as float64: exact below 2^53, which every EVM chain is far from.
        if (n.head !== undefined) this.chainHead.set(labels, Number(n.head));
        if (n.cursor !== undefined) this.cursorBlock.set(labels, Number(n.cursor));
        if (n.head !== undefined && n.cursor !== undefined)
          this.lagBlocks.set(labels, Number(n.head > n.cursor ? n.head - n.cursor : 0n));
      }
    }
  }
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
