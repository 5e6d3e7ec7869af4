import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

import type { FinalityRule, Network } from '../network.entity.js';

export class NetworkKeyParamDto {
  @ApiProperty({ description: 'Network key', example: 'sepolia' })
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'key must be a network key such as "sepolia"' })
  key: string;
}

export class NetworkResponseDto {
  @ApiProperty({ example: 'sepolia', description: 'Stable key used across the API' })
  key: string;

  @ApiProperty({ example: '11155111', description: 'EIP-155 chain id, as a decimal string' })
  chain_id: string;

  @ApiProperty({ example: 'Ethereum Sepolia' })
  name: string;

  @ApiProperty({ example: 'ETH' })
  native_symbol: string;

  @ApiProperty({ example: 18 })
  native_decimals: number;

  @ApiProperty({ example: 12, description: 'Confirmations after which a deposit is completed' })
  required_confirmations: number;

  @ApiProperty({
    enum: ['confirmations', 'finalized'],
    example: 'confirmations',
    description: 'Completion at the confirmation count, or at the chain’s finalized block',
  })
  finality_rule: FinalityRule;

  @ApiProperty({ example: 12000, description: 'Expected block interval in milliseconds' })
  block_time_ms: number;

  @ApiProperty({ example: true, description: 'Whether the monitor follows this network' })
  enabled: boolean;

  @ApiProperty({
    type: Boolean,
    nullable: true,
    example: true,
    description:
      'Whether internal transfers (ETH sent to a wallet by a contract call) are detected here: false ' +
      "when the network's node offers no trace method (`trace_block`, `debug_traceBlockByHash`), " +
      'null until the monitor has read a block from it',
  })
  internal_transfers: boolean | null;
}

export const toNetworkResponse = (n: Network, internalTransfers: boolean | null): NetworkResponseDto => ({
  key: n.key,
  chain_id: n.chainId,
  name: n.name,
  native_symbol: n.nativeSymbol,
  native_decimals: n.nativeDecimals,
  required_confirmations: n.requiredConfirmations,
  finality_rule: n.finalityRule,
  block_time_ms: n.blockTimeMs,
  enabled: n.enabled,
  internal_transfers: internalTransfers,
});
