import { Injectable, Logger, Optional } from '@nestjs/common';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { DEVNET_KEY, DevnetService } from '../devnet/devnet.service.js';
import { RepeatedWarning } from '../logging/repeated-warning.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ALCHEMY_NETWORKS, AlchemyChainClient } from './alchemy-chain-client.js';
import { type ChainClient, ChainClientFactory } from './chain-client.js';
import { JsonRpcChainClient } from './json-rpc-chain-client.js';

export type ChainEndpoint =
  | { adapter: 'json-rpc'; url: string; source: string }
  | { adapter: 'alchemy'; source: 'ALCHEMY_API_KEY' }
  | null;

/**
 * Picks each network's adapter from the configuration, first match wins:
 * 1. `devnet`: DEVNET_RPC_URL, else the devnet this process spawned, else RPC_URL_DEVNET;
 * 2. `RPC_URL_<KEY>` → JsonRpcChainClient (an explicit node beats a provider key);
 * 3. ALCHEMY_API_KEY and a chain Alchemy serves (by chain id) → AlchemyChainClient;
 * 4. otherwise null: the network is not followed (logged once).
 */
@Injectable()
export class ConfiguredChainClientFactory extends ChainClientFactory {
  private readonly logger = new Logger('ChainClientFactory');
  /** Per network key: asked again and again (each leadership attempt), said once then slower. */
  private readonly missing = new Map<string, RepeatedWarning>();

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly devnet: DevnetService,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    super();
  }

  /** Which adapter and endpoint a network gets (no connection is made). */
  endpointFor(network: { key: string; chainId: bigint }): ChainEndpoint {
    const { rpcUrls, alchemyApiKey } = this.config.monitor;
    if (network.key === DEVNET_KEY) {
      const url = this.config.monitor.devnetRpcUrl ?? this.devnet.rpcUrl ?? rpcUrls[DEVNET_KEY];
      return url === undefined || url === null ? null : { adapter: 'json-rpc', url, source: 'devnet' };
    }
    // An environment variable cannot hold '-': RPC_URL_BASE_SEPOLIA serves the key base-sepolia.
    const url = rpcUrls[network.key] ?? rpcUrls[network.key.replaceAll('-', '_')];
    if (url !== undefined) return { adapter: 'json-rpc', url, source: rpcUrlVariable(network.key) };
    if (alchemyApiKey !== undefined && ALCHEMY_NETWORKS.has(network.chainId)) {
      return { adapter: 'alchemy', source: 'ALCHEMY_API_KEY' };
    }
    return null;
  }

  create(network: { key: string; chainId: bigint }): ChainClient | null {
    const endpoint = this.endpointFor(network);
    const timing = {
      name: network.key,
      chainId: network.chainId,
      pollIntervalMs: this.config.monitor.pollIntervalMs,
      stallTimeoutMs: this.config.monitor.stallTimeoutMs,
      onRequest: this.metrics?.rpcObserver(network.key),
    };
    if (endpoint === null) {
      let warning = this.missing.get(network.key);
      if (!warning)
        this.missing.set(network.key, (warning = new RepeatedWarning((m) => this.logger.warn(m))));
      warning.warn(
        `network ${network.key} (chain ${network.chainId}) has no endpoint: set ${rpcUrlVariable(network.key)}` +
          `${ALCHEMY_NETWORKS.has(network.chainId) ? ' or ALCHEMY_API_KEY' : ''}; it is not followed`,
      );
      return null;
    }
    switch (endpoint.adapter) {
      case 'json-rpc':
        return new JsonRpcChainClient({ ...timing, url: endpoint.url });
      case 'alchemy':
        return new AlchemyChainClient({
          ...timing,
          apiKey: this.config.monitor.alchemyApiKey as string,
          network: ALCHEMY_NETWORKS.get(network.chainId)!,
        });
    }
  }
}

/** The variable that gives network `key` its endpoint: RPC_URL_ and the key upper-cased, '-' as '_'. */
export const rpcUrlVariable = (key: string): string => `RPC_URL_${key.toUpperCase().replaceAll('-', '_')}`;
