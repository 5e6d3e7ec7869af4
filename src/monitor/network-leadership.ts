import { Logger } from '@nestjs/common';
import pg from 'pg';

import type { ChainClient } from '../chain/chain-client.js';
import { rpcUrlVariable } from '../chain/chain-client.factory.js';
import { ChainIdMismatchError } from '../chain/rpc-chain-client.js';
import { RepeatedWarning } from '../logging/repeated-warning.js';
import type { ChainFollower } from './chain-follower.js';
import type { MonitoredNetwork } from './monitor.types.js';
import type { NetworkStatusReporter } from './network-status.reporter.js';

export interface LeadershipOptions {
  databaseUrl: string;
  /** How often a standby tries the lock, and how often a leader checks its lock connection. */
  retryMs: number;
  createClient(network: MonitoredNetwork): ChainClient | null;
  createFollower(
    network: MonitoredNetwork,
    client: ChainClient,
    onFatal: (error: Error) => void,
  ): ChainFollower;
  /** Where the leader reports the network's state (no endpoint, wrong chain). */
  reporter?: NetworkStatusReporter;
  /** How long to wait before trying again an endpoint that served another chain. */
  mismatchRetryMs?: number;
}

/** The advisory lock key of a network's follower (any process, any database user). */
export const leaderLockKey = (networkKey: string): string => `cdm-monitor:${networkKey}`;

/**
 * One network's leader election: a dedicated connection tries `pg_try_advisory_lock`; the holder
 * follows the network, the others retry every `retryMs`. A session lock dies with its connection,
 * so a killed leader frees the network at once; and a leader whose lock connection fails (or stops
 * answering the heartbeat) stops its follower, since it can no longer know it is alone.
 */
export class NetworkLeadership {
  private readonly logger: Logger;
  /** A node or database that stays down: said once, then at a slowing rate with a count. */
  private readonly failing: RepeatedWarning;
  private connection: pg.Client | undefined;
  private client: ChainClient | undefined;
  private follower: ChainFollower | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private reportedStandby = false;
  /** The endpoint served another chain: try it again after `mismatchRetryMs`, not `retryMs`. */
  private mismatched = false;
  /** Transitions run one at a time. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly network: MonitoredNetwork,
    private readonly options: LeadershipOptions,
  ) {
    this.logger = new Logger(`Leadership:${network.key}`);
    this.failing = new RepeatedWarning((message) => this.logger.warn(message));
  }

  get isLeader(): boolean {
    return this.follower !== undefined;
  }

  get currentFollower(): ChainFollower | undefined {
    return this.follower;
  }

  start(): void {
    this.enqueue(() => this.tick());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.enqueue(() => this.release());
    await this.queue;
  }

  private enqueue(step: () => Promise<void>): void {
    this.queue = this.queue.then(step).catch((error: unknown) => {
      this.logger.error(`leadership step failed: ${(error as Error).message}`);
    });
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = this.mismatched
      ? (this.options.mismatchRetryMs ?? this.options.retryMs)
      : this.options.retryMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.enqueue(() => this.tick());
    }, delay);
  }

  /** Standby: try the lock. Leader: check that the lock connection still answers. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.follower) {
        await this.connection!.query('SELECT 1');
        this.failing.clear();
      } else {
        const connection = this.connection ?? (await this.connect());
        const [row] = (
          await connection.query<{ locked: boolean }>(
            'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
            [leaderLockKey(this.network.key)],
          )
        ).rows;
        if (row?.locked) await this.lead();
        else if (!this.reportedStandby) {
          this.reportedStandby = true;
          this.logger.log(`standby for ${this.network.key}: another process leads it`);
        }
      }
    } catch (error) {
      this.failing.warn(
        `${this.follower ? 'lock connection' : 'taking the lead'} failed: ${(error as Error).message}`,
      );
      await this.release();
    }
    this.schedule();
  }

  private async connect(): Promise<pg.Client> {
    const connection = new pg.Client({
      connectionString: this.options.databaseUrl,
      keepAlive: true,
      query_timeout: Math.max(5_000, this.options.retryMs * 2),
      application_name: `cdm-monitor-lock:${this.network.key}`,
    });
    connection.on('error', (error) => this.lost(connection, error));
    connection.on('end', () => this.lost(connection));
    await connection.connect();
    this.connection = connection;
    return connection;
  }

  private lost(connection: pg.Client, error?: Error): void {
    if (this.connection !== connection) return;
    if (this.follower)
      this.logger.error(`lock connection lost${error ? ` (${error.message})` : ''}: stopping follower`);
    this.enqueue(() => this.release());
    this.schedule();
  }

  private async lead(): Promise<void> {
    const client = this.options.createClient(this.network);
    if (!client) {
      this.logger.warn(`no endpoint configured for ${this.network.key}: not followed`);
      this.options.reporter?.notFollowed(
        'no_endpoint',
        `no endpoint configured: set ${rpcUrlVariable(this.network.key)}`,
      );
      this.stopped = true;
      await this.release();
      return;
    }
    // Guard: an endpoint serving another chain (a copy-pasted URL, a provider's default network)
    // would record that chain's transfers as this network's deposits. Refuse it, loudly.
    try {
      await client.assertChainId();
      this.mismatched = false;
    } catch (error) {
      await client.close().catch(() => undefined);
      if (error instanceof ChainIdMismatchError) {
        this.mismatched = true;
        this.logger.error(`NOT FOLLOWING ${error.message} — check ${rpcUrlVariable(this.network.key)}`);
        this.options.reporter?.notFollowed('error', `${error.message}: not followed`);
        await this.release();
        return;
      }
      this.options.reporter?.failed(`endpoint unreachable: ${(error as Error).message}`);
      throw error;
    }
    this.logger.log(`leading ${this.network.key}`);
    this.client = client;
    const follower = this.options.createFollower(this.network, client, () => {
      this.enqueue(() => this.release());
      this.schedule();
    });
    this.follower = follower;
    await follower.start();
  }

  /** Stops following (if leading) and drops the lock connection, which frees the lock. */
  private async release(): Promise<void> {
    const { follower, client, connection } = this;
    this.follower = undefined;
    this.client = undefined;
    this.connection = undefined;
    // The follower stops taking new work at once; closing the client then fails whatever node
    // request it waits for, so stopping does not wait for a request timeout.
    const stopping = follower?.stop();
    await client?.close().catch(() => undefined);
    if (follower) {
      await stopping!.catch((error: unknown) =>
        this.logger.error(`follower stop: ${(error as Error).message}`),
      );
      this.logger.log(`stopped following ${this.network.key}`);
    }
    await connection?.end().catch(() => undefined);
  }
}
