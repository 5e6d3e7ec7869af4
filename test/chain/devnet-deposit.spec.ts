import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

import type { Hex } from '../../src/common/evm.js';
import { DEVNET_TOKEN, ensureDevnetToken } from '../../src/devnet/devnet-tools.js';
import { parseArguments, sendDeposit, UsageError } from '../../scripts/devnet-deposit.js';
import {
  ANVIL_ACCOUNTS,
  type Anvil,
  deployTestToken,
  receiptOf,
  startAnvil,
  tokenBalance,
} from '../helpers/anvil.js';

const run = promisify(execFile);
const SCRIPT = 'dist/scripts/devnet-deposit.js';
const fresh = (): Hex => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString('hex')}`;
const balance = async (anvil: Anvil, address: Hex): Promise<bigint> =>
  BigInt(await anvil.rpc<Hex>('eth_getBalance', [address, 'latest']));

describe('devnet:deposit', () => {
  let anvil: Anvil;
  beforeAll(async () => {
    anvil = await startAnvil({ blockTime: 'auto' });
    await ensureDevnetToken(anvil.httpUrl);
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it.each([
    [[], /expected 2 or 3 arguments/],
    [['0x1234', '1'], /not an address/],
    [['0xAbCdEf0123456789abcdef0123456789ABCDEF01', '1'], /not an address/], // bad checksum
    [[ANVIL_ACCOUNTS[1].address, '-1'], /not a positive decimal/],
    [[ANVIL_ACCOUNTS[1].address, '0.0'], /not a positive decimal/],
    [[ANVIL_ACCOUNTS[1].address, '1e3'], /not a positive decimal/],
    [[ANVIL_ACCOUNTS[1].address, '1', 'USDC'], /neither TEST nor a token contract address/],
  ])('refuses %j with a clear message', (args, message) => {
    expect(() => parseArguments(args)).toThrow(UsageError);
    expect(() => parseArguments(args)).toThrow(message);
  });

  it('sends ETH in whole units from the first account', async () => {
    const to = fresh();
    const { hash } = await sendDeposit(anvil.httpUrl, parseArguments([to, '1.5']));
    const receipt = await receiptOf(anvil, hash);
    expect(receipt.status).toBe('0x1');
    expect(await balance(anvil, to)).toBe(1_500_000_000_000_000_000n);
    const tx = await anvil.rpc<{ from: Hex }>('eth_getTransactionByHash', [hash]);
    expect(tx.from).toBe(ANVIL_ACCOUNTS[0].address);
  });

  it('sends the devnet TEST token with its 6 decimals, and any token by address', async () => {
    const to = fresh();
    await receiptOf(anvil, (await sendDeposit(anvil.httpUrl, parseArguments([to, '250.5', 'test']))).hash);
    expect(await tokenBalance(anvil, DEVNET_TOKEN.address, to)).toBe(250_500_000n);
    const other = await deployTestToken(anvil, { symbol: 'EIGHT', decimals: 8, from: 4 });
    await receiptOf(
      anvil,
      (await sendDeposit(anvil.httpUrl, parseArguments([to, '0.00000001', other]))).hash,
    );
    expect(await tokenBalance(anvil, other, to)).toBe(1n);
    await expect(sendDeposit(anvil.httpUrl, parseArguments([to, '0.000000001', other]))).rejects.toThrow(
      /has 8 decimals/,
    );
    await expect(sendDeposit(anvil.httpUrl, parseArguments([to, '1', fresh()]))).rejects.toThrow(
      /no contract at/,
    );
  });

  it('runs as a command: prints the tx hash, exits 2 with usage on bad input', async () => {
    expect(existsSync(SCRIPT)).toBe(true); // `npm test` builds first (pretest)
    const to = fresh();
    const env = { ...process.env, DEVNET_RPC_URL: anvil.wsUrl };
    const { stdout } = await run('node', [SCRIPT, to, '2'], { env });
    const hash = /0x[0-9a-f]{64}/.exec(stdout)?.[0] as Hex;
    expect((await receiptOf(anvil, hash)).status).toBe('0x1');
    expect(await balance(anvil, to)).toBe(2n * 10n ** 18n);
    expect(stdout).toMatch(/mined in block \d+, status success/);
    const failure = await run('node', [SCRIPT, 'nope', '2'], { env }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/not an address[\s\S]*usage: npm run devnet:deposit/),
    });
  });
});
