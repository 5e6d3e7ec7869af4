import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { Hex } from '../common/evm.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { type AnvilProcess, spawnAnvil, waitUntilAnswering } from './anvil-process.js';
import { DEVNET_TOKEN, ensureDevnetToken } from './devnet-tools.js';

export const DEVNET_KEY = 'devnet';
export const DEVNET_CHAIN_ID = 31337;

/**
 * The local dev chain. With DEVNET_ENABLED (the default when no other chain is configured) it runs
 * anvil on 127.0.0.1:DEVNET_PORT for as long as the service runs; with DEVNET_RPC_URL it uses that
 * node instead. Either way it makes sure the devnet test token exists and is listed in `tokens`.
 *
 * Ready before any follower starts: the work is done in onModuleInit, which Nest awaits before
 * onApplicationBootstrap (where the monitor starts); `ready()` exposes the same promise.
 */
@Injectable()
export class DevnetService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Devnet');
  private node: AnvilProcess | null = null;
  private urls: { http: string; ws: string | null } | null = null;
  private token: Hex | null = null;
  private starting: Promise<void> | null = null;
  private readonly killOnExit = (): void => {
    // Last resort on process.exit(): the guard shell also kills anvil when our pipe closes.
    if (this.node && this.node.pid > 0) {
      try {
        process.kill(-this.node.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  /** Whether this process follows a devnet at all (spawned or at DEVNET_RPC_URL). */
  get enabled(): boolean {
    return this.config.monitor.devnetRpcUrl !== undefined || this.config.monitor.devnetSpawn;
  }

  /** The devnet's URL for a chain client (ws when we run the node); null when no devnet. */
  get rpcUrl(): string | null {
    return this.urls ? (this.urls.ws ?? this.urls.http) : null;
  }

  get httpUrl(): string | null {
    return this.urls?.http ?? null;
  }

  /** The test token's address on the running devnet; null before ready or without a devnet. */
  get tokenAddress(): Hex | null {
    return this.token;
  }

  /** Process group id of the spawned node (its guard shell); null when none is spawned. */
  get pid(): number | null {
    return this.node?.pid ?? null;
  }

  onModuleInit(): Promise<void> {
    return this.ready();
  }

  ready(): Promise<void> {
    this.starting ??= this.start();
    return this.starting;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    const node = this.node;
    if (!node) return;
    await node.stop();
    process.off('exit', this.killOnExit);
    this.node = null;
    this.logger.log('anvil stopped');
  }

  private async start(): Promise<void> {
    const { devnetRpcUrl, devnetSpawn, devnetPort, devnetBlockTimeSeconds } = this.config.monitor;
    if (devnetRpcUrl !== undefined) {
      const isWs = /^wss?:/i.test(devnetRpcUrl);
      const http = isWs ? devnetRpcUrl.replace(/^ws/i, 'http') : devnetRpcUrl;
      await waitUntilAnswering(http, 30_000);
      this.urls = { http, ws: isWs ? devnetRpcUrl : null };
      this.logger.log(`using the devnet node at ${devnetRpcUrl}`);
    } else if (devnetSpawn) {
      try {
        this.node = await spawnAnvil({
          host: '127.0.0.1',
          port: devnetPort,
          chainId: DEVNET_CHAIN_ID,
          blockTime: devnetBlockTimeSeconds === 0 ? 'auto' : devnetBlockTimeSeconds,
        });
      } catch (error) {
        throw new Error(
          `could not start the devnet (anvil) on 127.0.0.1:${devnetPort} — is the port in use? Set DEVNET_PORT, ` +
            `DEVNET_RPC_URL to use a running node, or DEVNET_ENABLED=false. ${error instanceof Error ? error.message : ''}`,
          { cause: error },
        );
      }
      process.on('exit', this.killOnExit);
      this.urls = { http: this.node.httpUrl, ws: this.node.wsUrl };
      const every =
        devnetBlockTimeSeconds === 0
          ? 'a block per transaction'
          : `a block every ${devnetBlockTimeSeconds} s`;
      this.logger.log(`anvil devnet on ${this.node.httpUrl} (chain id ${DEVNET_CHAIN_ID}, ${every})`);
    } else {
      return;
    }
    const { address, deployed } = await ensureDevnetToken(this.urls.http);
    this.token = address;
    await this.registerToken(address);
    this.logger.log(`${DEVNET_TOKEN.symbol} token ${deployed ? 'deployed' : 'found'} at ${address}`);
  }

  /**
   * Lists the token for network `devnet`, replacing a row of an earlier deployment with the same
   * symbol (a fresh anvil has fresh state; at the fixed address the row simply stays). One
   * statement, so a crash between two steps cannot lose the row.
   */
  private async registerToken(address: Hex): Promise<void> {
    await this.dataSource.query(
      `WITH network AS (SELECT id FROM blockchain_networks WHERE key = $1),
            dropped AS (
              DELETE FROM tokens t USING network n
              WHERE t.network_id = n.id AND t.symbol = $3 AND t.contract_address <> $2
            )
       INSERT INTO tokens (network_id, contract_address, symbol, decimals)
       SELECT id, $2, $3, $4 FROM network
       ON CONFLICT (network_id, contract_address) DO UPDATE SET symbol = EXCLUDED.symbol, decimals = EXCLUDED.decimals`,
      [DEVNET_KEY, address, DEVNET_TOKEN.symbol, DEVNET_TOKEN.decimals],
    );
  }
}
