import type { DataSource } from 'typeorm';

import { AlchemyChainClient } from '../../src/chain/alchemy-chain-client.js';
import { ConfiguredChainClientFactory } from '../../src/chain/chain-client.factory.js';
import type { ChainClient } from '../../src/chain/chain-client.js';
import { JsonRpcChainClient } from '../../src/chain/json-rpc-chain-client.js';
import { loadConfig } from '../../src/config/config.js';
import { DevnetService } from '../../src/devnet/devnet.service.js';

const devnet = { key: 'devnet', chainId: 31337n };
const sepolia = { key: 'sepolia', chainId: 11155111n };
const mainnet = { key: 'mainnet', chainId: 1n };
const privateChain = { key: 'private', chainId: 987654n };

describe(ConfiguredChainClientFactory.name, () => {
  const made: ChainClient[] = [];
  afterAll(async () => {
    await Promise.all(made.map((c) => c.close()));
  });

  /** Building a client opens no connection, so these need no node. */
  function factory(env: Record<string, string>) {
    const config = loadConfig({ DEVNET_ENABLED: 'false', ...env });
    // The devnet service is not started here: a spawned devnet is covered by devnet.service.spec.ts.
    const service = new DevnetService(config, null as unknown as DataSource);
    const subject = new ConfiguredChainClientFactory(config, service);
    return {
      subject,
      create: (network: { key: string; chainId: bigint }) => {
        const client = subject.create(network);
        if (client) made.push(client);
        return client;
      },
    };
  }

  it('follows nothing when nothing is configured', () => {
    const { create } = factory({});
    expect(create(devnet)).toBeNull();
    expect(create(sepolia)).toBeNull();
  });

  it('uses DEVNET_RPC_URL for the devnet', () => {
    const { create, subject } = factory({ DEVNET_RPC_URL: 'ws://127.0.0.1:9545' });
    expect(create(devnet)).toBeInstanceOf(JsonRpcChainClient);
    expect(subject.endpointFor(devnet)).toEqual({
      adapter: 'json-rpc',
      url: 'ws://127.0.0.1:9545',
      source: 'devnet',
    });
    expect(create(devnet)?.chainId).toBe(31337n);
  });

  it('uses RPC_URL_<KEY> for that network, before Alchemy', () => {
    const { create, subject } = factory({
      RPC_URL_SEPOLIA: 'https://rpc.example/sepolia',
      ALCHEMY_API_KEY: 'k',
    });
    expect(create(sepolia)).toBeInstanceOf(JsonRpcChainClient);
    expect(subject.endpointFor(sepolia)).toMatchObject({
      url: 'https://rpc.example/sepolia',
      source: 'RPC_URL_SEPOLIA',
    });
    // Mainnet has no RPC URL: Alchemy serves it.
    expect(create(mainnet)).toBeInstanceOf(AlchemyChainClient);
  });

  it('uses Alchemy for the chains it serves when ALCHEMY_API_KEY is set, nothing for others', () => {
    const { create } = factory({ ALCHEMY_API_KEY: 'key' });
    const client = create(sepolia);
    expect(client).toBeInstanceOf(AlchemyChainClient);
    expect(client?.chainId).toBe(11155111n);
    expect(create(privateChain)).toBeNull();
    expect(create(devnet)).toBeNull();
  });

  it('uses RPC_URL_<KEY> for a chain Alchemy does not serve', () => {
    const { create } = factory({ RPC_URL_PRIVATE: 'ws://10.0.0.1:8546' });
    expect(create(privateChain)).toBeInstanceOf(JsonRpcChainClient);
  });
});
