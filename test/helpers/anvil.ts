/**
 * A real anvil node per test suite, on a free port of 127.0.0.1, plus helpers to make the chain
 * events the monitor must handle: ETH and ERC-20 transfers, reverted transfers, reorgs.
 *
 * By default the node mines only on demand (`--no-mining`): send any number of transactions, then
 * `mine()` puts them all in one block (200 transfers in one block is just 200 `sendEth` + `mine`).
 */
import { encodeFunctionData } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';

import type { Hex } from '../../src/common/evm.js';
import { type AnvilProcess, spawnAnvil } from '../../src/devnet/anvil-process.js';
import { FORWARDER_ABI, FORWARDER_BYTECODE } from '../../src/devnet/contracts/forwarder.artifact.js';
import {
  ANVIL_ACCOUNTS,
  deployTestToken as deployToken,
  jsonRpc,
  sendTransaction,
  tokenBalanceOfData,
  tokenTransferData,
  waitForReceipt,
  type RawReceipt,
} from '../../src/devnet/devnet-tools.js';

export { ANVIL_ACCOUNTS, ANVIL_MNEMONIC, DEVNET_TOKEN } from '../../src/devnet/devnet-tools.js';

export interface StartAnvilOptions {
  chainId?: number;
  /** Seconds between blocks; 'auto' = a block per transaction; omit to mine only on demand (`evm_mine`). */
  blockTime?: number | 'auto';
  /** Default: a free port chosen by the OS. */
  port?: number;
  extraArgs?: string[];
}

export interface Anvil {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly chainId: number;
  /** Process group of the node (its guard shell); gone after `stop()`. */
  readonly pid: number;
  /** True when the node mines only on demand. */
  readonly onDemand: boolean;
  rpc<T>(method: string, params?: readonly unknown[]): Promise<T>;
  /** Mines `blocks` blocks now; resolves with the new head number. */
  mine(blocks?: number): Promise<bigint>;
  blockNumber(): Promise<bigint>;
  snapshot(): Promise<Hex>;
  revert(id: Hex): Promise<boolean>;
  /**
   * `anvil_reorg`: replaces the last `depth` blocks with as many new ones; `txs` are put in the new
   * blocks at the given offset from the fork point (0 = first new block).
   */
  reorg(depth: number, txs?: readonly ReorgTx[]): Promise<void>;
  stop(): Promise<void>;
}

export interface ReorgTx {
  from: Hex;
  to: Hex;
  value?: bigint;
  data?: Hex;
  /** Which of the new blocks holds it, counted from the fork point (0-based). */
  blockOffset: number;
}

export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const chainId = options.chainId ?? 31337;
  const node: AnvilProcess = await spawnAnvil({
    port: options.port ?? 0,
    chainId,
    blockTime: options.blockTime,
    extraArgs: options.extraArgs,
  });
  const rpc = <T>(method: string, params: readonly unknown[] = []): Promise<T> =>
    jsonRpc<T>(node.httpUrl, method, params);
  const blockNumber = async (): Promise<bigint> => BigInt(await rpc<Hex>('eth_blockNumber'));
  return {
    port: node.port,
    httpUrl: node.httpUrl,
    wsUrl: node.wsUrl,
    chainId,
    pid: node.pid,
    onDemand: options.blockTime === undefined,
    rpc,
    blockNumber,
    async mine(blocks = 1) {
      await rpc('anvil_mine', [`0x${blocks.toString(16)}`]);
      return blockNumber();
    },
    snapshot: () => rpc<Hex>('evm_snapshot'),
    revert: (id) => rpc<boolean>('evm_revert', [id]),
    async reorg(depth, txs = []) {
      await rpc('anvil_reorg', [
        depth,
        txs.map((tx) => [
          {
            from: tx.from,
            to: tx.to,
            ...(tx.value !== undefined && { value: `0x${tx.value.toString(16)}` }),
            ...(tx.data !== undefined && { input: tx.data }),
          },
          tx.blockOffset,
        ]),
      ]);
    },
    stop: () => node.stop(),
  };
}

/** An account by anvil index, a private key (its address is impersonated) or an address. */
export type Sender = number | Hex;

async function resolveSender(anvil: Anvil, from: Sender = 0): Promise<Hex> {
  if (typeof from === 'number') {
    const account = ANVIL_ACCOUNTS[from];
    if (account === undefined) throw new Error(`anvil has no default account #${from}`);
    return account.address;
  }
  const address = (from.length === 66 ? privateKeyToAddress(from) : from).toLowerCase() as Hex;
  if (!ANVIL_ACCOUNTS.some((a) => a.address === address)) {
    await anvil.rpc('anvil_impersonateAccount', [address]);
  }
  return address;
}

/**
 * Sends ETH; returns the tx hash without waiting for a block (call `anvil.mine()` when on demand).
 * Pass `gas` to send into a contract that reverts (gas estimation refuses a failing call).
 */
export async function sendEth(
  anvil: Anvil,
  tx: { from?: Sender; to: Hex; valueWei: bigint; gas?: bigint },
): Promise<Hex> {
  return sendTransaction(anvil.httpUrl, {
    from: await resolveSender(anvil, tx.from),
    to: tx.to,
    value: tx.valueWei,
    gas: tx.gas,
  });
}

/** Deploys a TestToken (whole supply to `from`, default 10^30 base units) and waits for it. */
export async function deployTestToken(
  anvil: Anvil,
  token: { symbol: string; decimals: number; name?: string; supply?: bigint; from?: Sender },
): Promise<Hex> {
  return deployToken(anvil.httpUrl, {
    from: await resolveSender(anvil, token.from),
    name: token.name ?? `${token.symbol} test token`,
    symbol: token.symbol,
    decimals: token.decimals,
    supply: token.supply ?? 10n ** 30n,
    mine: anvil.onDemand,
  });
}

/** ERC-20 `transfer` of base units; returns the tx hash without waiting for a block. */
export async function sendToken(
  anvil: Anvil,
  tx: { token: Hex; from?: Sender; to: Hex; amount: bigint },
): Promise<Hex> {
  return sendTransaction(anvil.httpUrl, {
    from: await resolveSender(anvil, tx.from),
    to: tx.token,
    data: tokenTransferData(tx.to, tx.amount),
  });
}

export async function tokenBalance(anvil: Anvil, token: Hex, owner: Hex): Promise<bigint> {
  return BigInt(await anvil.rpc<Hex>('eth_call', [{ to: token, data: tokenBalanceOfData(owner) }, 'latest']));
}

/** Runtime code that reverts whatever it is sent: PUSH1 0, PUSH1 0, REVERT. */
export const REVERTING_RUNTIME: Hex = '0x60006000fd';

/**
 * A transaction to `to` that carries ETH and fails (receipt status 0): `to` gets reverting code for
 * the call and its code is put back afterwards, so `to` may be a watched wallet (an EOA). The ETH
 * does not arrive; a monitor that credits it is wrong. It waits for the block (when on demand it
 * mines one, which also takes any other pending transactions).
 */
export async function revertedTransfer(
  anvil: Anvil,
  tx: { from?: Sender; to: Hex; valueWei: bigint },
): Promise<Hex> {
  const previousCode = await anvil.rpc<Hex>('eth_getCode', [tx.to, 'latest']);
  await anvil.rpc('anvil_setCode', [tx.to, REVERTING_RUNTIME]);
  // Gas is fixed: estimation refuses a call that reverts.
  const hash = await sendTransaction(anvil.httpUrl, {
    from: await resolveSender(anvil, tx.from),
    to: tx.to,
    value: tx.valueWei,
    gas: 50_000n,
  });
  if (anvil.onDemand) {
    await anvil.mine();
    await anvil.rpc('anvil_setCode', [tx.to, previousCode]);
  } else {
    // Interval mining: the code must stay until the tx is in a block.
    await waitForReceipt(anvil.httpUrl, hash);
    await anvil.rpc('anvil_setCode', [tx.to, previousCode]);
  }
  return hash;
}

/** A contract that reverts every call (ETH sent to it fails); returns its address. */
export async function deployReverter(anvil: Anvil): Promise<Hex> {
  const address: Hex = `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString('hex')}`;
  await anvil.rpc('anvil_setCode', [address, REVERTING_RUNTIME]);
  return address;
}

export async function receiptOf(anvil: Anvil, hash: Hex): Promise<RawReceipt> {
  return waitForReceipt(anvil.httpUrl, hash, { mine: false });
}

/** Deploys a Forwarder (src/devnet/contracts/Forwarder.sol) and waits for it; returns its address. */
export async function deployForwarder(anvil: Anvil, from: Sender = 0): Promise<Hex> {
  const hash = await sendTransaction(anvil.httpUrl, {
    from: await resolveSender(anvil, from),
    data: FORWARDER_BYTECODE,
  });
  if (anvil.onDemand) await anvil.mine();
  const receipt = await waitForReceipt(anvil.httpUrl, hash, { mine: false });
  if (!receipt.contractAddress) throw new Error(`Forwarder deployment ${hash} created no contract`);
  return receipt.contractAddress.toLowerCase() as Hex;
}

/** Calldata of a Forwarder call (`split`, `relay`, `sendThenSwallow`). */
export const forwarderCall = (
  ...call: ['split', Hex[], bigint[]] | ['relay', Hex, Hex[], bigint[]] | ['sendThenSwallow', Hex]
): Hex => {
  switch (call[0]) {
    case 'split':
      return encodeFunctionData({ abi: FORWARDER_ABI, functionName: 'split', args: [call[1], call[2]] });
    case 'relay':
      return encodeFunctionData({
        abi: FORWARDER_ABI,
        functionName: 'relay',
        args: [call[1], call[2], call[3]],
      });
    case 'sendThenSwallow':
      return encodeFunctionData({ abi: FORWARDER_ABI, functionName: 'sendThenSwallow', args: [call[1]] });
  }
};

/**
 * Calls a Forwarder with `valueWei` (internal transfers: the contract sends ETH on with calls);
 * returns the tx hash without waiting for a block. `gas` for a call that reverts.
 */
export async function sendThroughForwarder(
  anvil: Anvil,
  tx: { from?: Sender; forwarder: Hex; valueWei: bigint; data: Hex; gas?: bigint },
): Promise<Hex> {
  return sendTransaction(anvil.httpUrl, {
    from: await resolveSender(anvil, tx.from),
    to: tx.forwarder,
    value: tx.valueWei,
    data: tx.data,
    gas: tx.gas,
  });
}
