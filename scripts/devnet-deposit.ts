/**
 * Sends a test deposit on the devnet:
 *
 *   npm run devnet:deposit -- <address> <amount> [token]
 *
 * `amount` is in whole units (`1.5` ETH, `250` TEST). `token` is omitted for ETH, `TEST` for the
 * devnet token (it sits at a fixed address, see DEVNET_TOKEN), or an ERC-20 contract address.
 * ETH comes from anvil's first account; tokens from the first default account that holds enough.
 * The node is DEVNET_RPC_URL, or http://127.0.0.1:DEVNET_PORT (the devnet `npm start` spawns).
 */
import { formatUnits, parseUnits } from 'viem';

import { type Hex, isEvmAddress, normalizeAddress } from '../src/common/evm.js';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { loadDotEnv } from '../src/config/dotenv.js';
import {
  ANVIL_ACCOUNTS,
  DEVNET_TOKEN,
  jsonRpc,
  sendTransaction,
  tokenBalanceOfData,
  tokenTransferData,
  waitForReceipt,
} from '../src/devnet/devnet-tools.js';

const USAGE =
  'usage: npm run devnet:deposit -- <address> <amount> [token]\n' +
  '  address  the recipient, 0x + 40 hex digits\n' +
  '  amount   whole units, e.g. 1 or 0.25\n' +
  '  token    omit for ETH; TEST for the devnet token; or a token contract address';

export class UsageError extends Error {}

/** A plain boolean (isEvmAddress narrows to `string`, which would make the error branch `never`). */
const isAddress = (value: string): boolean => isEvmAddress(value);

export interface DepositRequest {
  to: Hex;
  amount: string;
  /** null = ETH. */
  token: Hex | null;
}

export function parseArguments(args: readonly string[]): DepositRequest {
  if (args.length < 2 || args.length > 3)
    throw new UsageError(`expected 2 or 3 arguments, got ${args.length}`);
  const [to, amount, token] = args;
  if (!isAddress(to))
    throw new UsageError(`"${to}" is not an address (0x + 40 hex digits, valid checksum if mixed case)`);
  if (!/^(\d+)(\.\d+)?$/.test(amount) || /^0*(\.0*)?$/.test(amount)) {
    throw new UsageError(`"${amount}" is not a positive decimal amount (whole units, e.g. 1 or 0.25)`);
  }
  let tokenAddress: Hex | null = null;
  if (token !== undefined) {
    if (token.toUpperCase() === DEVNET_TOKEN.symbol) tokenAddress = DEVNET_TOKEN.address;
    else if (isAddress(token)) tokenAddress = normalizeAddress(token);
    else throw new UsageError(`"${token}" is neither ${DEVNET_TOKEN.symbol} nor a token contract address`);
  }
  return { to: normalizeAddress(to), amount, token: tokenAddress };
}

/** Units with more decimals than the asset has would be silently rounded: refuse them. */
function toBaseUnits(amount: string, decimals: number, asset: string): bigint {
  const fraction = amount.split('.')[1] ?? '';
  if (fraction.length > decimals)
    throw new UsageError(`${asset} has ${decimals} decimals; "${amount}" has more`);
  return parseUnits(amount, decimals);
}

export async function sendDeposit(
  url: string,
  request: DepositRequest,
): Promise<{ hash: Hex; summary: string }> {
  const chainId = BigInt(await jsonRpc<Hex>(url, 'eth_chainId'));
  if (request.token === null) {
    const value = toBaseUnits(request.amount, 18, 'ETH');
    const hash = await sendTransaction(url, { from: ANVIL_ACCOUNTS[0].address, to: request.to, value });
    return { hash, summary: `${formatUnits(value, 18)} ETH to ${request.to} on chain ${chainId}` };
  }
  const code = await jsonRpc<Hex>(url, 'eth_getCode', [request.token, 'latest']);
  if (code === '0x')
    throw new UsageError(
      `no contract at ${request.token} on this node (chain ${chainId}); is the devnet running?`,
    );
  const decimals = Number(
    await jsonRpc<Hex>(url, 'eth_call', [{ to: request.token, data: '0x313ce567' }, 'latest']),
  );
  const value = toBaseUnits(request.amount, decimals, `token ${request.token}`);
  let from: Hex | undefined;
  for (const account of ANVIL_ACCOUNTS) {
    const balance = BigInt(
      await jsonRpc<Hex>(url, 'eth_call', [
        { to: request.token, data: tokenBalanceOfData(account.address) },
        'latest',
      ]),
    );
    if (balance >= value) {
      from = account.address;
      break;
    }
  }
  if (from === undefined)
    throw new UsageError(`no default anvil account holds ${request.amount} of ${request.token}`);
  const hash = await sendTransaction(url, {
    from,
    to: request.token,
    data: tokenTransferData(request.to, value),
  });
  return {
    hash,
    summary: `${formatUnits(value, decimals)} of token ${request.token} to ${request.to} on chain ${chainId}`,
  };
}

async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  const configured = config.monitor.devnetRpcUrl;
  const url = configured
    ? configured.replace(/^ws/i, 'http')
    : `http://127.0.0.1:${config.monitor.devnetPort}`;
  const request = parseArguments(process.argv.slice(2));
  let sent: { hash: Hex; summary: string };
  try {
    sent = await sendDeposit(url, request);
  } catch (error) {
    if (error instanceof TypeError)
      throw new UsageError(`cannot reach the devnet at ${url}: is \`npm start\` running?`);
    throw error;
  }
  console.log(`sent ${sent.summary}`);
  console.log(sent.hash);
  try {
    const receipt = await waitForReceipt(url, sent.hash, { timeoutMs: 15_000 });
    console.log(
      `mined in block ${BigInt(receipt.blockNumber)}, status ${receipt.status === '0x1' ? 'success' : 'reverted'}`,
    );
  } catch {
    console.log('not mined yet (does the node mine blocks?)');
  }
}

if (process.argv[1]?.endsWith('devnet-deposit.js')) {
  main().catch((error: unknown) => {
    if (error instanceof UsageError || error instanceof ConfigError) {
      console.error(`devnet:deposit: ${error.message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  });
}
