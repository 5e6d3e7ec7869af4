import { ApiProperty } from '@nestjs/swagger';

import { checksumAddress, toDecimalString } from '../../common/evm.js';
import type { DepositEventData } from '../../events/domain-events.js';
import type { AssetType, DepositStatus } from '../deposit.entity.js';

export type TransferType = 'native' | 'internal' | 'token';
export const TRANSFER_TYPES: readonly TransferType[] = ['native', 'internal', 'token'];

export class AssetDto {
  @ApiProperty({ enum: ['native', 'erc20'], example: 'erc20' })
  type: AssetType;

  @ApiProperty({ example: 'USDC' })
  symbol: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Token contract; null for the native coin',
    example: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238',
  })
  contract: string | null;

  @ApiProperty({ example: 6 })
  decimals: number;
}

export class DepositResponseDto {
  @ApiProperty({ example: '6a0f3c1e-7d4a-4e0b-8f55-1a2b3c4d5e6f' })
  id: string;

  @ApiProperty({ example: 'sepolia' })
  network: string;

  @ApiProperty({ example: '11155111', description: 'Decimal string' })
  chain_id: string;

  @ApiProperty({ example: '0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060' })
  tx_hash: string;

  @ApiProperty({
    example: 3,
    description: 'Log index of the Transfer event; -1 for ETH (native and internal)',
  })
  log_index: number;

  @ApiProperty({
    enum: TRANSFER_TYPES,
    example: 'internal',
    description:
      'How the value came: `native` — the value of the transaction itself (sent to the wallet by the ' +
      'transaction); `internal` — ETH sent to the wallet by a contract, from a call inside the ' +
      'transaction (see `trace_address`; `from_address` is that contract); `token` — an ERC-20 ' +
      '`Transfer` log (see `log_index`)',
  })
  transfer_type: TransferType;

  @ApiProperty({
    type: [Number],
    nullable: true,
    example: [0, 1],
    description:
      "Of an internal transfer: the position of its call in the transaction's call tree (Parity " +
      '`traceAddress`: [0, 1] = the second call made by the first call of the transaction); null ' +
      'for native and token transfers',
  })
  trace_address: number[] | null;

  @ApiProperty({ example: '5123456', description: 'Decimal string' })
  block_number: string;

  @ApiProperty({ example: '0x9a2c0f5b3f1e0c4c9b1f3c2d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a' })
  block_hash: string;

  @ApiProperty({ example: '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266' })
  from_address: string;

  @ApiProperty({ example: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' })
  wallet_address: string;

  @ApiProperty({ type: AssetDto })
  asset: AssetDto;

  @ApiProperty({ example: '1.5', description: 'Amount in whole units, exact decimal string' })
  amount: string;

  @ApiProperty({ example: '1500000', description: 'Amount in base units, decimal string' })
  amount_base_units: string;

  @ApiProperty({ example: 4, description: 'head − block + 1 at the last update' })
  confirmations: number;

  @ApiProperty({ example: 12 })
  required_confirmations: number;

  @ApiProperty({ enum: ['pending', 'completed', 'orphaned'], example: 'pending' })
  status: DepositStatus;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  detected_at: string;

  @ApiProperty({ nullable: true, type: String, example: null })
  completed_at: string | null;

  @ApiProperty({ nullable: true, type: String, example: null })
  orphaned_at: string | null;
}

export class DepositPageDto {
  @ApiProperty({ type: [DepositResponseDto], description: 'Newest first' })
  items: DepositResponseDto[];

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Pass as `cursor` for the next page; null at the end',
    example: null,
  })
  next_cursor: string | null;
}

/** A deposit row joined with its network, as DepositsRepository selects it. */
export interface DepositRow {
  id: string;
  network_key: string;
  chain_id: string;
  tx_hash: string;
  log_index: number;
  /** '' unless an internal transfer (see DetectedDeposit.traceAddress). */
  trace_address: string;
  block_number: string;
  block_hash: string;
  from_address: string;
  wallet_address: string;
  asset_type: AssetType;
  asset_symbol: string;
  asset_contract: string | null;
  asset_decimals: number;
  amount: string;
  confirmations: number;
  required_confirmations: number;
  status: DepositStatus;
  detected_at: Date;
  completed_at: Date | null;
  orphaned_at: Date | null;
}

/** A deposit's columns without its timestamps: what its events carry (DepositEventData). */
export type DepositStateRow = Omit<DepositRow, 'detected_at' | 'completed_at' | 'orphaned_at'>;

/** How a deposit came, from what is stored: its asset and, for an internal transfer, its call. */
export const transferType = (d: Pick<DepositStateRow, 'asset_type' | 'trace_address'>): TransferType =>
  d.asset_type === 'erc20' ? 'token' : d.trace_address === '' ? 'native' : 'internal';

/** A deposit's columns as the monitor's writes return them (its network is the caller's). */
export type DepositColumns = Omit<DepositStateRow, 'network_key' | 'chain_id'>;

/**
 * A deposit's representation without its timestamps, `deposit_id` for its id: the deposit events'
 * payload, and (with `id` for `deposit_id`) the REST response's body, so the two cannot drift
 * apart. One object literal, no spreads: the monitor builds ~600 of these a live block, and spread
 * copies of them were ~45 % of everything a block allocated (docs/monitor.md, "fewer allocations
 * on the commit path").
 */
export const depositPayload = (d: DepositColumns, network: string, chainId: string): DepositEventData => ({
  deposit_id: d.id,
  network,
  chain_id: chainId,
  tx_hash: d.tx_hash,
  log_index: d.log_index,
  transfer_type: transferType(d),
  trace_address: d.trace_address === '' ? null : d.trace_address.split('.').map(Number),
  block_number: d.block_number,
  block_hash: d.block_hash,
  from_address: checksumAddress(d.from_address),
  wallet_address: checksumAddress(d.wallet_address),
  asset: {
    type: d.asset_type,
    symbol: d.asset_symbol,
    contract: d.asset_contract === null ? null : checksumAddress(d.asset_contract),
    decimals: d.asset_decimals,
  },
  amount: toDecimalString(d.amount, d.asset_decimals),
  amount_base_units: d.amount,
  confirmations: d.confirmations,
  required_confirmations: d.required_confirmations,
  status: d.status,
});

export const toDepositResponse = (d: DepositRow): DepositResponseDto => {
  const { deposit_id: id, ...body } = depositPayload(d, d.network_key, d.chain_id);
  return {
    id,
    ...body,
    detected_at: d.detected_at.toISOString(),
    completed_at: d.completed_at?.toISOString() ?? null,
    orphaned_at: d.orphaned_at?.toISOString() ?? null,
  };
};
