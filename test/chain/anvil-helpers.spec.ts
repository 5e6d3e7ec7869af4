import { decodeEventLog, type Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';

import { CONTRACTS, compileContract, compileTestToken } from '../../scripts/compile-contracts.js';
import { FORWARDER_ABI, FORWARDER_BYTECODE } from '../../src/devnet/contracts/forwarder.artifact.js';
import { TEST_TOKEN_ABI, TEST_TOKEN_BYTECODE } from '../../src/devnet/contracts/test-token.artifact.js';
import {
  ANVIL_ACCOUNTS,
  ANVIL_MNEMONIC,
  DEVNET_TOKEN,
  type Anvil,
  deployReverter,
  deployTestToken,
  receiptOf,
  revertedTransfer,
  sendEth,
  sendToken,
  startAnvil,
  tokenBalance,
} from '../helpers/anvil.js';

const fresh = (): Hex => `0x${Buffer.from(crypto.getRandomValues(new Uint8Array(20))).toString('hex')}`;
const balance = async (anvil: Anvil, address: Hex): Promise<bigint> =>
  BigInt(await anvil.rpc<Hex>('eth_getBalance', [address, 'latest']));

describe('anvil test helpers', () => {
  let anvil: Anvil;
  beforeAll(async () => {
    anvil = await startAnvil();
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  it('lists the default accounts of the anvil mnemonic', () => {
    for (const index of [0, 9]) {
      const derived = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
      expect(derived.address.toLowerCase()).toBe(ANVIL_ACCOUNTS[index].address);
    }
  });

  it('puts the devnet token at the address the docs give', () => {
    expect(DEVNET_TOKEN.address).toBe('0x700b6a60ce7eaaea56f065753d8dcb9653dbad35');
    expect(DEVNET_TOKEN.deployer).toBe(ANVIL_ACCOUNTS[9].address);
  });

  it('stores the bytecode that TestToken.sol compiles to', () => {
    const compiled = compileTestToken();
    expect(compiled.bytecode).toBe(TEST_TOKEN_BYTECODE);
    expect(compiled.abi).toEqual(TEST_TOKEN_ABI);
  });

  it('stores the bytecode that Forwarder.sol compiles to', () => {
    const compiled = compileContract(CONTRACTS.find((c) => c.name === 'Forwarder')!);
    expect(compiled.bytecode).toBe(FORWARDER_BYTECODE);
    expect(compiled.abi).toEqual(FORWARDER_ABI);
  });

  it('mines on demand: 200 transfers land in one block', async () => {
    const before = await anvil.blockNumber();
    const to = fresh();
    const hashes: Hex[] = [];
    for (let i = 0; i < 200; i += 1) hashes.push(await sendEth(anvil, { from: i % 10, to, valueWei: 1n }));
    expect(await anvil.blockNumber()).toBe(before);
    expect(await anvil.mine()).toBe(before + 1n);
    const block = await anvil.rpc<{ transactions: Hex[] }>('eth_getBlockByNumber', ['latest', false]);
    expect(new Set(block.transactions)).toEqual(new Set(hashes));
    expect(await balance(anvil, to)).toBe(200n);
  });

  it('deploys a token whose transfer moves balances and emits Transfer', async () => {
    const token = await deployTestToken(anvil, { symbol: 'USDX', decimals: 6, supply: 10_000_000n });
    const to = fresh();
    const hash = await sendToken(anvil, { token, from: 0, to, amount: 1_234_567n });
    await anvil.mine();
    const receipt = await anvil.rpc<{
      status: Hex;
      logs: { address: Hex; topics: [Hex, ...Hex[]]; data: Hex }[];
    }>('eth_getTransactionReceipt', [hash]);
    expect(receipt.status).toBe('0x1');
    expect(receipt.logs).toHaveLength(1);
    expect(receipt.logs[0].address).toBe(token);
    const event = decodeEventLog({ abi: TEST_TOKEN_ABI, ...receipt.logs[0] });
    expect(event.eventName).toBe('Transfer');
    expect(event.args).toEqual({
      from: expect.stringMatching(/^0x[fF]39[fF]/),
      to: expect.any(String),
      value: 1_234_567n,
    });
    expect(await tokenBalance(anvil, token, to)).toBe(1_234_567n);
    expect(await tokenBalance(anvil, token, ANVIL_ACCOUNTS[0].address)).toBe(10_000_000n - 1_234_567n);
  });

  it('makes a reverted transfer to an address: status 0, no ETH arrives, the address stays an EOA', async () => {
    const to = fresh();
    const hash = await revertedTransfer(anvil, { from: 1, to, valueWei: 10n ** 18n });
    const receipt = await receiptOf(anvil, hash);
    expect(receipt.status).toBe('0x0');
    const tx = await anvil.rpc<{ to: Hex; value: Hex }>('eth_getTransactionByHash', [hash]);
    expect(tx.to).toBe(to);
    expect(BigInt(tx.value)).toBe(10n ** 18n);
    expect(await balance(anvil, to)).toBe(0n);
    expect(await anvil.rpc('eth_getCode', [to, 'latest'])).toBe('0x');
  });

  it('sends ETH into a contract that reverts: the tx is mined and failed', async () => {
    const reverter = await deployReverter(anvil);
    const hash = await sendEth(anvil, { from: 2, to: reverter, valueWei: 99n, gas: 60_000n });
    await anvil.mine();
    expect((await receiptOf(anvil, hash)).status).toBe('0x0');
    expect(await balance(anvil, reverter)).toBe(0n);
  });

  it('reorgs the last blocks and re-mines a transaction in the new branch', async () => {
    const to = fresh();
    await sendEth(anvil, { to, valueWei: 5n });
    await anvil.mine();
    const tip = await anvil.blockNumber();
    const oldHash = (await anvil.rpc<{ hash: Hex }>('eth_getBlockByNumber', [`0x${tip.toString(16)}`, false]))
      .hash;
    await anvil.reorg(1, [{ from: ANVIL_ACCOUNTS[2].address, to, value: 7n, blockOffset: 0 }]);
    const replaced = await anvil.rpc<{ hash: Hex }>('eth_getBlockByNumber', [`0x${tip.toString(16)}`, false]);
    expect(await anvil.blockNumber()).toBe(tip);
    expect(replaced.hash).not.toBe(oldHash);
    expect(await balance(anvil, to)).toBe(7n);
  });

  it('stops the node and leaves no process behind', async () => {
    const other = await startAnvil({ chainId: 11155111, blockTime: 1 });
    expect(BigInt(await other.rpc<Hex>('eth_chainId'))).toBe(11155111n);
    await other.stop();
    // The guard shell and anvil share a process group: signal 0 to the group finds nobody.
    expect(() => process.kill(-other.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    await expect(fetch(other.httpUrl)).rejects.toThrow();
  });
});
