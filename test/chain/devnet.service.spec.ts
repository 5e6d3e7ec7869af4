import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';

import { ChainClientFactory } from '../../src/chain/chain-client.js';
import { JsonRpcChainClient } from '../../src/chain/json-rpc-chain-client.js';
import { ChainModule } from '../../src/chain/chain.module.js';
import { loadConfig } from '../../src/config/config.js';
import { ConfigModule } from '../../src/config/config.module.js';
import { DatabaseModule } from '../../src/database/database.module.js';
import { DEVNET_TOKEN, jsonRpc } from '../../src/devnet/devnet-tools.js';
import { DevnetService } from '../../src/devnet/devnet.service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { tokenBalance, startAnvil } from '../helpers/anvil.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function boot(database: TestDatabase, env: Record<string, string>) {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url, ...env });
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot({ url: database.url }), ChainModule],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  await app.init();
  return app;
}

const groupAlive = (pid: number): boolean => {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe(DevnetService.name, () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('spawns anvil, lists its token, serves the factory, and leaves no process after shutdown', async () => {
    const port = await freePort();
    const env = { DEVNET_ENABLED: 'true', DEVNET_PORT: String(port), DEVNET_BLOCK_TIME: '1' };
    for (let round = 1; round <= 2; round += 1) {
      // Twice: a restart gets a fresh chain and must leave exactly one token row.
      const app = await boot(database, env);
      const devnet = app.get(DevnetService);
      const pid = devnet.pid!;
      try {
        expect(devnet.rpcUrl).toBe(`ws://127.0.0.1:${port}`);
        const httpUrl = `http://127.0.0.1:${port}`;
        expect(BigInt(await jsonRpc<string>(httpUrl, 'eth_chainId'))).toBe(31337n);
        expect(devnet.tokenAddress).toBe(DEVNET_TOKEN.address);
        const anvil = { rpc: <T>(m: string, p: readonly unknown[] = []) => jsonRpc<T>(httpUrl, m, p) };
        expect(await tokenBalance(anvil as never, DEVNET_TOKEN.address, DEVNET_TOKEN.deployer)).toBe(
          DEVNET_TOKEN.supply,
        );
        const rows = await app
          .get(DataSource)
          .query(
            `SELECT t.contract_address, t.symbol, t.decimals FROM tokens t JOIN blockchain_networks n ON n.id = t.network_id WHERE n.key = 'devnet'`,
          );
        expect(rows).toEqual([{ contract_address: DEVNET_TOKEN.address, symbol: 'TEST', decimals: 6 }]);
        const client = app.get(ChainClientFactory).create({ key: 'devnet', chainId: 31337n });
        expect(client).toBeInstanceOf(JsonRpcChainClient);
        const first = await client!.latestHead();
        // Interval mining at one block a second: the chain moves by itself.
        const deadline = Date.now() + 10_000;
        while ((await client!.latestHead()).number <= first.number && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect((await client!.latestHead()).number).toBeGreaterThan(first.number);
        await client!.close();
      } finally {
        await app.close();
      }
      expect(groupAlive(pid)).toBe(false);
      await expect(jsonRpc(`http://127.0.0.1:${port}`, 'eth_chainId')).rejects.toThrow();
    }
  });

  it('uses DEVNET_RPC_URL instead of spawning, and reuses a token already there', async () => {
    const node = await startAnvil({ blockTime: 'auto' });
    try {
      const app = await boot(database, { DEVNET_RPC_URL: node.httpUrl });
      const devnet = app.get(DevnetService);
      expect(devnet.pid).toBeNull();
      expect(devnet.rpcUrl).toBe(node.httpUrl);
      expect(devnet.tokenAddress).toBe(DEVNET_TOKEN.address);
      await app.close();
      const again = await boot(database, { DEVNET_RPC_URL: node.httpUrl });
      expect(again.get(DevnetService).tokenAddress).toBe(DEVNET_TOKEN.address);
      await again.close();
      // Still running: it is not ours to stop.
      expect(BigInt(await node.rpc<string>('eth_chainId'))).toBe(31337n);
    } finally {
      await node.stop();
    }
  });

  it('leaves no anvil behind when its parent is killed with SIGKILL', async () => {
    // A separate Node process (the built module, as `npm start` runs it) spawns anvil, then dies hard.
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { spawnAnvil } = await import(${JSON.stringify(resolve('dist/src/devnet/anvil-process.js'))});
         const node = await spawnAnvil({ blockTime: 1 });
         console.log(JSON.stringify({ port: node.port, pid: node.pid }));
         setInterval(() => undefined, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const started = await new Promise<{ port: number; pid: number }>((resolvePort, reject) => {
      parent.stdout.once('data', (chunk: Buffer) =>
        resolvePort(JSON.parse(chunk.toString()) as { port: number; pid: number }),
      );
      parent.once('exit', (code) => reject(new Error(`parent exited early (${code})`)));
    });
    expect(BigInt(await jsonRpc<string>(`http://127.0.0.1:${started.port}`, 'eth_chainId'))).toBe(31337n);
    parent.kill('SIGKILL');
    const deadline = Date.now() + 10_000;
    while (groupAlive(started.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(groupAlive(started.pid)).toBe(false);
    await expect(jsonRpc(`http://127.0.0.1:${started.port}`, 'eth_chainId')).rejects.toThrow();
  });

  it('explains a taken port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await expect(boot(database, { DEVNET_ENABLED: 'true', DEVNET_PORT: String(port) })).rejects.toThrow(
        /could not start the devnet.*DEVNET_PORT/s,
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
