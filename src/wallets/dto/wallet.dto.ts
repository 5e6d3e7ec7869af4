import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';

import { checksumAddress } from '../../common/evm.js';
import { IsBlockNumberString, IsEvmAddress } from '../../common/validators.js';
import type { Wallet } from '../wallet.entity.js';

export class CreateWalletDto {
  @ApiProperty({
    description: 'EVM address; a mixed-case address must pass its EIP-55 checksum',
    example: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  })
  @IsEvmAddress()
  address: string;

  @ApiPropertyOptional({ description: 'A name for people, up to 100 characters', example: 'Hot wallet' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({
    description:
      'Backfill deposits from this block number (decimal string); by default only new blocks are watched',
    example: '5000000',
  })
  @IsOptional()
  @IsBlockNumberString()
  start_block?: string;
}

export class UserIdParamDto {
  @ApiProperty({ description: 'User id (UUID)', example: '3f1c1b5e-4b7a-4f55-9a55-0c1f0f5c9d11' })
  @IsUUID('all', { message: 'user_id must be a UUID' })
  user_id: string;
}

export class WalletResponseDto {
  @ApiProperty({ example: '9b2f3c1e-7d4a-4e0b-8f55-1a2b3c4d5e6f' })
  id: string;

  @ApiProperty({ example: '3f1c1b5e-4b7a-4f55-9a55-0c1f0f5c9d11' })
  user_id: string;

  @ApiProperty({ description: 'EIP-55 checksummed', example: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' })
  address: string;

  @ApiProperty({ nullable: true, type: String, example: 'Hot wallet' })
  label: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'Backfill start block, if any', example: null })
  start_block: string | null;

  @ApiProperty({ example: '2026-11-30T12:00:00.000Z' })
  created_at: string;
}

export const toWalletResponse = (w: Wallet): WalletResponseDto => ({
  id: w.id,
  user_id: w.userId,
  address: checksumAddress(w.address),
  label: w.label,
  start_block: w.startBlock,
  created_at: w.createdAt.toISOString(),
});
