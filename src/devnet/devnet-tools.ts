/**
 * Small helpers to drive an anvil devnet over plain JSON-RPC (HTTP): send transactions from its
 * unlocked default accounts, wait for receipts, deploy and use the test ERC-20. Used by the devnet
 * service, the `devnet:deposit` script and the test helpers, so all three agree on the token.
 */
import { encodeDeployData, encodeFunctionData, getContractAddress } from 'viem';

import type { Hex } from '../common/evm.js';
import { TEST_TOKEN_ABI, TEST_TOKEN_BYTECODE } from './contracts/test-token.artifact.js';

export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

/** anvil's default accounts (derived from ANVIL_MNEMONIC, m/44'/60'/0'/0/i); public test keys. */
export const ANVIL_ACCOUNTS: readonly { readonly address: Hex; readonly privateKey: Hex }[] = [
  [
    '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266',
    '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  ],
  [
    '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
    '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  ],
  [
    '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
    '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  ],
  [
    '0x90f79bf6eb2c4f870365e785982e1f101e93b906',
    '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  ],
  [
    '0x15d34aaf54267db7d7c367839aaf71a00a2c6a65',
    '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  ],
  [
    '0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc',
    '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  ],
  [
    '0x976ea74026e726554db657fa54763abd0c3a0aa9',
    '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  ],
  [
    '0x14dc79964da2c08b23698b3d3cc7ca32193d9955',
    '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  ],
  [
    '0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f',
    '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  ],
  [
    '0xa0ee7a142d267c1f36714e4a8f75612f20a79720',
    '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
  ],
].map(([address, privateKey]) => ({ address: address as Hex, privateKey: privateKey as Hex }));

/**
 * The devnet token sits at a fixed address: it is the first contract of a deployer account that
 * sends nothing else (anvil account 9, nonce 0), so the deposit script and the service agree on it
 * without a database.
 */
export const DEVNET_TOKEN = {
  name: 'Devnet Test USD',
  symbol: 'TEST',
  decimals: 6,
  /** One trillion whole tokens, all minted to the deployer. */
  supply: 10n ** 12n * 10n ** 6n,
  deployer: ANVIL_ACCOUNTS[9].address,
  address: getContractAddress({ from: ANVIL_ACCOUNTS[9].address, nonce: 0n }).toLowerCase() as Hex,
} as const;

export class JsonRpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(`${method}: ${message} (code ${code})`);
    this.name = 'JsonRpcError';
  }
}

/** One JSON-RPC call over HTTP. */
export async function jsonRpc<T>(url: string, method: string, params: readonly unknown[] = []): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`${method}: HTTP ${response.status} from ${url}`);
  const body = (await response.json()) as { result?: T; error?: { code: number; message: string } };
  if (body.error) throw new JsonRpcError(method, body.error.code, body.error.message);
  return body.result as T;
}

export interface TxRequest {
  from: Hex;
  to?: Hex;
  value?: bigint;
  data?: Hex;
  /** Set it for a call that would revert (gas estimation refuses those). */
  gas?: bigint;
}

const hex = (value: bigint): Hex => `0x${value.toString(16)}`;

/** `eth_sendTransaction` from an account the node holds unlocked (anvil's defaults). */
export function sendTransaction(url: string, tx: TxRequest): Promise<Hex> {
  return jsonRpc<Hex>(url, 'eth_sendTransaction', [
    {
      from: tx.from,
      ...(tx.to !== undefined && { to: tx.to }),
      ...(tx.value !== undefined && { value: hex(tx.value) }),
      ...(tx.data !== undefined && { data: tx.data }),
      ...(tx.gas !== undefined && { gas: hex(tx.gas) }),
    },
  ]);
}

export interface RawReceipt {
  transactionHash: Hex;
  blockHash: Hex;
  blockNumber: Hex;
  status: Hex;
  contractAddress: Hex | null;
}

/**
 * Polls for the receipt. With `mine`, asks the node for a block first (for nodes that mine only on
 * demand; on interval mining it just adds a block).
 */
export async function waitForReceipt(
  url: string,
  hash: Hex,
  options: { mine?: boolean; timeoutMs?: number } = {},
): Promise<RawReceipt> {
  if (options.mine === true) await jsonRpc(url, 'evm_mine');
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const receipt = await jsonRpc<RawReceipt | null>(url, 'eth_getTransactionReceipt', [hash]);
    if (receipt) return receipt;
    if (Date.now() > deadline)
      throw new Error(`no receipt for ${hash} within ${options.timeoutMs ?? 30_000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function testTokenDeployData(token: {
  name: string;
  symbol: string;
  decimals: number;
  supply: bigint;
}): Hex {
  return encodeDeployData({
    abi: TEST_TOKEN_ABI,
    bytecode: TEST_TOKEN_BYTECODE,
    args: [token.name, token.symbol, token.decimals, token.supply],
  });
}

export const tokenTransferData = (to: Hex, value: bigint): Hex =>
  encodeFunctionData({ abi: TEST_TOKEN_ABI, functionName: 'transfer', args: [to, value] });

export const tokenBalanceOfData = (owner: Hex): Hex =>
  encodeFunctionData({ abi: TEST_TOKEN_ABI, functionName: 'balanceOf', args: [owner] });

/** Deploys a TestToken; the whole supply goes to `from`. Returns the lower-case address. */
export async function deployTestToken(
  url: string,
  token: { from: Hex; name: string; symbol: string; decimals: number; supply: bigint; mine?: boolean },
): Promise<Hex> {
  const hash = await sendTransaction(url, { from: token.from, data: testTokenDeployData(token) });
  const receipt = await waitForReceipt(url, hash, { mine: token.mine });
  if (receipt.status !== '0x1' || receipt.contractAddress === null) {
    throw new Error(`deploying token ${token.symbol} failed (tx ${hash})`);
  }
  return receipt.contractAddress.toLowerCase() as Hex;
}

/**
 * Makes sure the devnet token exists at DEVNET_TOKEN.address and returns where it is. On a fresh
 * anvil it deploys it (the deployer's first transaction); if the deployer has already been used on
 * this node (a long-lived DEVNET_RPC_URL node) and the code is not there, it deploys anew and the
 * address differs — the caller records whatever this returns.
 */
export async function ensureDevnetToken(url: string): Promise<{ address: Hex; deployed: boolean }> {
  const code = await jsonRpc<Hex>(url, 'eth_getCode', [DEVNET_TOKEN.address, 'latest']);
  if (code !== '0x') return { address: DEVNET_TOKEN.address, deployed: false };
  // Mine on demand so the service is ready at once, not after the next interval block.
  const address = await deployTestToken(url, { ...DEVNET_TOKEN, from: DEVNET_TOKEN.deployer, mine: true });
  return { address, deployed: true };
}
