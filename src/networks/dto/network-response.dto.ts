import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

import type { FinalityRule, Network } from '../network.entity.js';
import { NETWORK_STATES, type NetworkState, type NetworkStatusView } from '../network-status.js';
import { NetworkTokenResponseDto } from './network-token.dto.js';

export class NetworkKeyParamDto {
  @ApiProperty({ description: 'Network key', example: 'sepolia' })
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'key must be a network key such as "sepolia"' })
  key: string;
}

export class NetworkStatusDto implements NetworkStatusView {
  @ApiProperty({
    enum: NETWORK_STATES,
    example: 'following',
    description:
      'following: the cursor is within 2 blocks of the head; catching_up: further behind; stalled: no new ' +
      'block for longer than the stall timeout (or no monitor process reports it); error: see `error` ' +
      '(e.g. the endpoint serves another chain id); disabled; no_endpoint: no RPC_URL_<KEY> / Alchemy key',
  })
  state: NetworkState;

  @ApiProperty({
    nullable: true,
    type: String,
    example: '7012345',
    description: 'Newest head the node announced',
  })
  head_block: string | null;

  @ApiProperty({ nullable: true, type: String, example: '7012344', description: 'Last processed block' })
  cursor_block: string | null;

  @ApiProperty({ nullable: true, type: String, example: '1', description: 'head_block − cursor_block' })
  lag_blocks: string | null;

  @ApiProperty({
    nullable: true,
    type: String,
    example: '2026-12-05T08:00:00.000Z',
    description: 'When the cursor last moved to a new block',
  })
  last_block_at: string | null;

  @ApiProperty({ nullable: true, type: String, example: null, description: 'What went wrong, for people' })
  error: string | null;
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
    type: NetworkStatusDto,
    description: 'The follower of this network, as its monitor process reports it',
  })
  status: NetworkStatusDto;

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

  @ApiProperty({
    type: [NetworkTokenResponseDto],
    description:
      'The ERC-20 tokens whose transfers to wallets are detected on this network (admin POST / DELETE ' +
      '/networks/{key}/tokens), by symbol',
  })
  tokens: NetworkTokenResponseDto[];
}

export const toNetworkResponse = (
  n: Network,
  status: NetworkStatusView,
  internalTransfers: boolean | null,
  tokens: NetworkTokenResponseDto[],
): NetworkResponseDto => ({
  key: n.key,
  chain_id: n.chainId,
  name: n.name,
  native_symbol: n.nativeSymbol,
  native_decimals: n.nativeDecimals,
  required_confirmations: n.requiredConfirmations,
  finality_rule: n.finalityRule,
  block_time_ms: n.blockTimeMs,
  enabled: n.enabled,
  status,
  internal_transfers: internalTransfers,
  tokens,
});
