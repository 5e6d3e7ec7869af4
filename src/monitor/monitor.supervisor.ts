import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ChainClientFactory } from '../chain/chain-client.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { EventBus } from '../events/event-bus.js';
import { type FollowedNetwork, MetricsService } from '../metrics/metrics.service.js';
import { ChainFollower, type FollowerMetrics } from './chain-follower.js';
import { MonitorRepository } from './monitor.repository.js';
import type { MonitoredNetwork } from './monitor.types.js';
import { NetworkLeadership } from './network-leadership.js';
import { NetworkStatusReporter } from './network-status.reporter.js';
import { databaseUrlOf, WalletChangeListener } from './wallet-change-listener.js';
import { WatchSet } from './watch-set.js';

/** How often a standby process tries to take a network over (and a leader checks its lock). */
export const LEADER_RETRY_MS = 2_000;
/** How long an endpoint that served another chain is left alone before it is tried again. */
export const CHAIN_MISMATCH_RETRY_MS = 30_000;
const FETCH_CONCURRENCY = 8;

/**
 * Starts the monitor of this process: the watch set and its change listener, then one leader
 * election per enabled network; whichever process holds a network's lock runs its ChainFollower.
 * Networks changed at run time (NOTIFY `network_settings`, from an admin's PATCH in any process)
 * are applied here: a disabled network's election stops (and with it its follower), an enabled
 * one starts, and a new confirmation count or finality rule goes to the follower.
 */
@Injectable()
export class MonitorSupervisor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Monitor');
  /** By network id. */
  private readonly leaderships = new Map<string, NetworkLeadership>();
  /** Network changes are applied one at a time, in the order they were notified. */
  private reconciling: Promise<void> = Promise.resolve();
  private closed = false;
  private stopMetrics: (() => void) | undefined;
  private readonly followerMetrics: FollowerMetrics = {
    headSeen: (network, number) => this.metrics.headSeen(network, number),
    reorg: (network, depth) => {
      this.metrics.reorgs.inc({ network });
      this.metrics.reorgDepth.observe({ network }, Number(depth));
    },
  };

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly repository: MonitorRepository,
    private readonly watch: WatchSet,
    private readonly listener: WalletChangeListener,
    private readonly bus: EventBus,
    private readonly clients: ChainClientFactory,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listener.start({
      walletsChanged: () => this.followers().forEach((f) => f.walletsChanged()),
      tokensChanged: (networkId) =>
        this.followers()
          .filter((f) => networkId === undefined || f.network.id === networkId)
          .forEach((f) => f.tokensChanged()),
      // On every (re)connect too (undefined: all networks), so a change missed meanwhile is applied.
      networksChanged: (networkId) => this.enqueueReconcile(networkId),
    });
    await this.reconciling;
    if (!this.closed) this.stopMetrics = this.metrics.followChains(() => this.networkStatus());
    const keys = [...this.leaderships.values()].map((l) => l.network.key);
    this.logger.log(`Monitor started for ${keys.join(', ') || 'no networks'}`);
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    this.stopMetrics?.();
    await this.listener.stop();
    await this.reconciling;
    const leaderships = [...this.leaderships.values()];
    this.leaderships.clear();
    await Promise.all(leaderships.map((l) => l.stop()));
  }

  /** Networks this process is following right now (keys). */
  leading(): string[] {
    return [...this.leaderships.values()].filter((l) => l.isLeader).map((l) => l.network.key);
  }

  /**
   * Every enabled network as this process sees it: `up` only where it leads and its follower is
   * not stalled (a standby reports 0: alert on the maximum over processes, docs/operations.md).
   */
  networkStatus(): FollowedNetwork[] {
    return [...this.leaderships.values()].map((l) => {
      const status = l.isLeader ? l.currentFollower?.status() : undefined;
      return {
        network: l.network.key,
        leading: l.isLeader,
        head: status?.head,
        cursor: status?.cursor,
        up: status !== undefined && !status.stalled,
      };
    });
  }

  private followers(): ChainFollower[] {
    return [...this.leaderships.values()].flatMap((l) => (l.currentFollower ? [l.currentFollower] : []));
  }

  private enqueueReconcile(networkId: string | undefined): void {
    this.reconciling = this.reconciling
      .then(() => this.reconcile(networkId))
      .catch((error: unknown) =>
        this.logger.error(`applying a network change failed: ${(error as Error).message}`),
      );
  }

  /** Brings this process's elections and followers to the networks as stored. */
  private async reconcile(networkId: string | undefined): Promise<void> {
    if (this.closed) return;
    for (const stored of await this.repository.networkSettings(networkId)) {
      if (this.closed) return;
      const leadership = this.leaderships.get(stored.id);
      if (!stored.enabled) {
        if (!leadership) continue;
        this.leaderships.delete(stored.id);
        await leadership.stop();
        this.logger.log(`${stored.key} disabled: not followed any more`);
      } else if (!leadership) {
        this.startLeadership(stored);
      } else {
        const network = leadership.network;
        if (
          network.requiredConfirmations === stored.requiredConfirmations &&
          network.finalityRule === stored.finalityRule
        )
          continue;
        // The follower holds this object: it (and a later follower of this election) sees the change.
        network.requiredConfirmations = stored.requiredConfirmations;
        network.finalityRule = stored.finalityRule;
        leadership.currentFollower?.networkChanged();
        this.logger.log(
          `${stored.key}: now ${stored.requiredConfirmations} confirmation(s), finality rule ${stored.finalityRule}`,
        );
      }
    }
  }

  private startLeadership({ enabled: _, ...network }: MonitoredNetwork & { enabled: boolean }): void {
    const { windowSize, backfillBatchSize, stallTimeoutMs, pollIntervalMs } = this.config.monitor;
    const reporter = new NetworkStatusReporter(this.dataSource, network.id, network.key);
    const leadership = new NetworkLeadership(network, {
      databaseUrl: databaseUrlOf(this.dataSource),
      retryMs: LEADER_RETRY_MS,
      mismatchRetryMs: CHAIN_MISMATCH_RETRY_MS,
      reporter,
      createClient: (n) => this.clients.create({ key: n.key, chainId: BigInt(n.chainId) }),
      createFollower: (n, client, onFatal) =>
        new ChainFollower(
          n,
          client,
          this.repository,
          this.watch,
          this.bus,
          {
            windowSize,
            backfillBatchSize,
            fetchConcurrency: FETCH_CONCURRENCY,
            stallTimeoutMs,
            // Two polls of the head (a lagging node of a load-balanced endpoint has caught up by
            // then), and never so long that the wait reads as a stalled follower.
            rollbackGraceMs: Math.min(2 * pollIntervalMs, Math.floor(stallTimeoutMs / 2)),
            observer: reporter,
            metrics: this.followerMetrics,
          },
          onFatal,
        ),
    });
    this.leaderships.set(network.id, leadership);
    leadership.start();
  }
}
