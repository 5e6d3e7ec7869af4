import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ChainClientFactory } from '../chain/chain-client.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { EventBus } from '../events/event-bus.js';
import { type FollowedNetwork, MetricsService } from '../metrics/metrics.service.js';
import { ChainFollower } from './chain-follower.js';
import { MonitorRepository } from './monitor.repository.js';
import { NetworkLeadership } from './network-leadership.js';
import { databaseUrlOf, WalletChangeListener } from './wallet-change-listener.js';
import { WatchSet } from './watch-set.js';

/** How often a standby process tries to take a network over (and a leader checks its lock). */
export const LEADER_RETRY_MS = 2_000;
const FETCH_CONCURRENCY = 8;

/**
 * Starts the monitor of this process: the watch set and its change listener, then one leader
 * election per enabled network; whichever process holds a network's lock runs its ChainFollower.
 */
@Injectable()
export class MonitorSupervisor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Monitor');
  private leaderships: NetworkLeadership[] = [];
  private stopMetrics: (() => void) | undefined;

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
    });
    const networks = await this.repository.enabledNetworks();
    const { windowSize, backfillBatchSize, stallTimeoutMs } = this.config.monitor;
    const metrics = {
      headSeen: (network: string, number: bigint) => this.metrics.headSeen(network, number),
      reorg: (network: string, depth: bigint) => {
        this.metrics.reorgs.inc({ network });
        this.metrics.reorgDepth.observe({ network }, Number(depth));
      },
    };
    for (const network of networks) {
      const leadership = new NetworkLeadership(network, {
        databaseUrl: databaseUrlOf(this.dataSource),
        retryMs: LEADER_RETRY_MS,
        createClient: (n) => this.clients.create({ key: n.key, chainId: BigInt(n.chainId) }),
        createFollower: (n, client, onFatal) =>
          new ChainFollower(
            n,
            client,
            this.repository,
            this.watch,
            this.bus,
            { windowSize, backfillBatchSize, fetchConcurrency: FETCH_CONCURRENCY, stallTimeoutMs, metrics },
            onFatal,
          ),
      });
      this.leaderships.push(leadership);
      leadership.start();
    }
    this.stopMetrics = this.metrics.followChains(() => this.networkStatus());
    this.logger.log(`Monitor started for ${networks.map((n) => n.key).join(', ') || 'no networks'}`);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopMetrics?.();
    const leaderships = this.leaderships;
    this.leaderships = [];
    await Promise.all(leaderships.map((l) => l.stop()));
    await this.listener.stop();
  }

  /** Networks this process is following right now (keys). */
  leading(): string[] {
    return this.leaderships.filter((l) => l.isLeader).map((l) => l.network.key);
  }

  /**
   * Every enabled network as this process sees it: `up` only where it leads and its follower is
   * not stalled (a standby reports 0: alert on the maximum over processes, docs/operations.md).
   */
  networkStatus(): FollowedNetwork[] {
    return this.leaderships.map((l) => {
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
    return this.leaderships.flatMap((l) => (l.currentFollower ? [l.currentFollower] : []));
  }
}
