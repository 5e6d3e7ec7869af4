import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import type { MigrationInterface } from 'typeorm';

import { createDataSource } from '../../src/database/data-source.js';
import { runMigrationsLocked } from '../../src/database/migrate.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

interface Step {
  schematic: string;
  options: Record<string, string>;
}
type StepResult = { files: Record<string, string> } | { error: string; unchanged: boolean };

/** Runs cases of schematic steps through SchematicTestRunner (see run-schematics.js): one process for all. */
function runSchematics(cases: Step[][]): Promise<StepResult[][]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [path.resolve('test/schematics/run-schematics.js')],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(cases));
  });
}

const files = (result: StepResult | undefined): Record<string, string> => {
  if (!result || !('files' in result)) throw new Error(`expected files, got ${JSON.stringify(result)}`);
  return result.files;
};
const added = (result: StepResult | undefined, pattern: RegExp): [string, string] => {
  const entry = Object.entries(files(result)).find(([f]) => pattern.test(f));
  if (!entry) throw new Error(`no file matching ${pattern}`);
  return entry;
};

const network = (options: Record<string, string>): Step => ({ schematic: 'network', options });
const token = (options: Record<string, string>): Step => ({ schematic: 'token', options });
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const usdcOnBaseSepolia = token({ name: 'base-sepolia', address: USDC, symbol: 'USDC', decimals: '6' });

const refusals: [Step[], RegExp][] = [
  [[network({ name: 'devnet' })], /network "devnet" already exists/],
  [[network({ name: 'sepolia' })], /network "sepolia" already exists/],
  [[network({ name: 'Base_Sepolia', chainId: '5' })], /bad network key "Base_Sepolia"/],
  [[network({ name: 'my-chain' })], /missing --chain-id: "my-chain" is no chain of viem\/chains/],
  [[network({ name: 'x-1', chainId: '0' })], /--chain-id must be at least 1/],
  [[network({ name: 'x-1', chainId: '-5' })], /--chain-id must be at least 1/],
  [[network({ name: 'x-1', chainId: '1.5' })], /--chain-id must be a whole number/],
  [[network({ name: 'x-1', chainId: '31337' })], /chain id 31337 is already network "devnet"/],
  [[network({ name: 'x-1', chainId: '777', confirmations: '0' })], /--confirmations must be at least 1/],
  [[network({ name: 'base-sepolia', confirmations: '0' })], /--confirmations must be at least 1/],
  [
    [network({ name: 'base-sepolia' }), usdcOnBaseSepolia, usdcOnBaseSepolia],
    /already a token of base-sepolia/,
  ],
  [[token({ name: 'nowhere', address: USDC, symbol: 'USDC', decimals: '6' })], /no network "nowhere"/],
  [[token({ name: 'devnet', address: `${USDC.slice(0, -1)}E`, symbol: 'U', decimals: '6' })], /EIP-55/],
  [
    [token({ name: 'devnet', address: USDC, symbol: 'USDC', decimals: '78' })],
    /--decimals must be at most 77/,
  ],
  [[token({ name: 'devnet', symbol: 'USDC' })], /missing --address, --decimals/],
];

describe('schematics (nest g network | token)', () => {
  let results: StepResult[][];

  beforeAll(async () => {
    results = await runSchematics([
      [{ schematic: 'service', options: { name: 'probe' } }],
      [network({ name: 'base-sepolia' }), usdcOnBaseSepolia],
      [network({ name: 'polygon-amoy', confirmations: '200', finality: 'finalized', blockTimeMs: '2000' })],
      [
        network({
          name: 'my-chain',
          chainId: '424242',
          displayName: "Bob's chain",
          nativeSymbol: 'MYC',
          nativeDecimals: '6',
          blockTimeMs: '500',
          confirmations: '5',
        }),
      ],
      ...refusals.map(([steps]) => steps),
    ]);
  }, 60_000);

  it('extends @nestjs/schematics: nest g service still generates', () => {
    expect(Object.keys(files(results[0][0]))).toContain('/probe/probe.service.ts');
  });

  it('takes base-sepolia from viem/chains: migration, registration, .env.example line', () => {
    const [file, migration] = added(results[1][0], /AddNetworkBaseSepolia/);
    expect(file).toMatch(/^\/migrations\/\d{13}-AddNetworkBaseSepolia\.ts$/);
    expect(migration).toContain(
      `['base-sepolia', '84532', 'Base Sepolia', 'ETH', 18, 72, 'confirmations', 2000]`,
    );
    expect(migration).toContain('DELETE FROM blockchain_networks WHERE key = $1');
    const stamp = /(\d{13})/.exec(file)![1];
    const index = files(results[1][0])['/migrations/index.ts'];
    expect(index).toContain(
      `import { AddNetworkBaseSepolia${stamp} } from './${stamp}-AddNetworkBaseSepolia.js';`,
    );
    expect(index).toMatch(new RegExp(`[0-9],\\n  AddNetworkBaseSepolia${stamp},\\n\\];`));
    expect(files(results[1][0])['/.env.example']).toMatch(
      /\nRPC_URL_SEPOLIA=\n# Base Sepolia \(chain id 84532\).*\n# RPC_URL_BASE_SEPOLIA=\n/,
    );
  });

  it('lets flags override a preset, and takes every detail of a chain viem does not know', () => {
    expect(added(results[2][0], /AddNetworkPolygonAmoy/)[1]).toContain(
      `['polygon-amoy', '80002', 'Polygon Amoy', 'POL', 18, 200, 'finalized', 2000]`,
    );
    expect(added(results[3][0], /AddNetworkMyChain/)[1]).toContain(
      `['my-chain', '424242', "Bob's chain", 'MYC', 6, 5, 'confirmations', 500]`,
    );
  });

  it('adds a token to a network, registered after it', () => {
    const [, migration] = added(results[1][1], /AddTokenBaseSepoliaUsdc/);
    expect(migration).toContain(`['base-sepolia', '${USDC.toLowerCase()}', 'USDC', 6]`);
    expect(files(results[1][1])['/migrations/index.ts']).toMatch(
      /AddNetworkBaseSepolia\d{13},\n {2}AddTokenBaseSepoliaUsdc\d{13},\n\];/,
    );
  });

  it.each(refusals.map(([steps, message], i) => [steps.at(-1)!.options, message, i] as const))(
    'refuses %j with a message and writes nothing',
    (_options, message, i) => {
      const last = results[4 + i].at(-1);
      expect(last).toEqual({ error: expect.stringMatching(message), unchanged: true });
    },
  );

  describe('a generated migration on real PostgreSQL', () => {
    let database: TestDatabase;
    let dir: string;

    beforeAll(async () => {
      database = await createTestDatabase();
      dir = await mkdtemp(path.join(tmpdir(), 'cdm-schematics-'));
    });

    afterAll(async () => {
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    const load = async (result: StepResult, pattern: RegExp): Promise<MigrationInterface> => {
      const [file, text] = added(result, pattern);
      const target = path.join(dir, path.basename(file));
      await writeFile(target, text);
      const module = (await import(pathToFileURL(target).href)) as Record<
        string,
        new () => MigrationInterface
      >;
      return new (Object.values(module)[0])();
    };

    it('inserts the network and its token (up), and removes them (down)', async () => {
      const addNetwork = await load(results[1][0], /AddNetworkBaseSepolia/);
      const addToken = await load(results[1][1], /AddTokenBaseSepoliaUsdc/);
      const ds = createDataSource(database.url, 2);
      await ds.initialize();
      const q = ds.createQueryRunner();
      try {
        await runMigrationsLocked(ds);
        await addNetwork.up(q);
        await addToken.up(q);
        expect(
          await ds.query(
            `SELECT n.key, n.chain_id::text AS chain_id, n.name, n.native_symbol, n.native_decimals,
                    n.required_confirmations, n.finality_rule, n.block_time_ms, n.enabled,
                    t.contract_address, t.symbol, t.decimals
               FROM blockchain_networks n JOIN tokens t ON t.network_id = n.id WHERE n.key = 'base-sepolia'`,
          ),
        ).toEqual([
          {
            key: 'base-sepolia',
            chain_id: '84532',
            name: 'Base Sepolia',
            native_symbol: 'ETH',
            native_decimals: 18,
            required_confirmations: 72,
            finality_rule: 'confirmations',
            block_time_ms: 2000,
            enabled: true,
            contract_address: USDC.toLowerCase(),
            symbol: 'USDC',
            decimals: 6,
          },
        ]);
        await addToken.down(q);
        expect(
          await ds.query(`SELECT 1 FROM tokens WHERE contract_address = $1`, [USDC.toLowerCase()]),
        ).toEqual([]);
        await addNetwork.down(q);
        expect(await ds.query(`SELECT 1 FROM blockchain_networks WHERE key = 'base-sepolia'`)).toEqual([]);
      } finally {
        await q.release();
        await ds.destroy();
      }
    });
  });
});
