import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';

import { checksumAddress } from '../../common/evm.js';
import { IsEvmAddress } from '../../common/validators.js';
import type { Token } from '../token.entity.js';

export class CreateNetworkTokenDto {
  @ApiProperty({
    description: 'ERC-20 contract address',
    example: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238',
  })
  @IsEvmAddress()
  address: string;

  @ApiProperty({ description: 'Ticker, 1–20 letters, digits, "." or "-"', example: 'USDC' })
  @IsString()
  @Matches(/^[A-Za-z0-9.-]{1,20}$/, { message: 'symbol must be 1 to 20 letters, digits, "." or "-"' })
  symbol: string;

  @ApiProperty({ description: 'Token decimals (0–77)', example: 6 })
  @IsInt({ message: 'decimals must be a whole number' })
  @Min(0)
  @Max(77)
  decimals: number;
}

export class NetworkTokenParamDto {
  @ApiProperty({ description: 'Network key', example: 'sepolia' })
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'key must be a network key such as "sepolia"' })
  key: string;

  @ApiProperty({
    description: 'ERC-20 contract address',
    example: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238',
  })
  @IsEvmAddress()
  address: string;
}

export class NetworkTokenResponseDto {
  @ApiProperty({ example: 'sepolia' })
  network: string;

  @ApiProperty({ description: 'EIP-55 checksummed', example: '0x1c7D4B196Cb0C7B01d743Fbc6116a902379C7238' })
  address: string;

  @ApiProperty({ example: 'USDC' })
  symbol: string;

  @ApiProperty({ example: 6 })
  decimals: number;

  @ApiProperty({ example: '2026-12-05T08:00:00.000Z' })
  created_at: string;
}

export const toTokenResponse = (networkKey: string, t: Token): NetworkTokenResponseDto => ({
  network: networkKey,
  address: checksumAddress(t.contractAddress),
  symbol: t.symbol,
  decimals: t.decimals,
  created_at: t.createdAt.toISOString(),
});
