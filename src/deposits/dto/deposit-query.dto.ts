import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min, registerDecorator } from 'class-validator';

import { IsTxHash } from '../../common/validators.js';
import type { DepositStatus } from '../deposit.entity.js';

/** 9999-12-31T23:59:59.999999Z in µs since the epoch: no row is later, and larger values overflow the SQL. */
const MAX_CURSOR_MICROS = 253_402_300_799_999_999n;
const CURSOR = /^(0|[1-9]\d{0,17})\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `<detected_at in µs>.<uuid>` as `next_cursor` writes it, with both parts in range. */
export const isDepositCursor = (value: unknown): boolean =>
  typeof value === 'string' && CURSOR.test(value) && BigInt(value.split('.')[0]) <= MAX_CURSOR_MICROS;

function IsDepositCursor(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isDepositCursor',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: 'cursor must be a next_cursor from a previous page' },
      validator: { validate: isDepositCursor },
    });
}

export const DEPOSIT_STATUSES: readonly DepositStatus[] = ['pending', 'completed', 'orphaned'];

export class ListDepositsQueryDto {
  @ApiPropertyOptional({ enum: DEPOSIT_STATUSES, description: 'Only deposits in this status' })
  @IsOptional()
  @IsIn(DEPOSIT_STATUSES, { message: `status must be one of ${DEPOSIT_STATUSES.join(', ')}` })
  status?: DepositStatus;

  @ApiPropertyOptional({ description: 'Only deposits on this network (key)', example: 'sepolia' })
  @IsOptional()
  @Matches(/^[a-z0-9_-]{1,64}$/, { message: 'network must be a network key such as "sepolia"' })
  network?: string;

  @ApiPropertyOptional({ description: 'Page size, 1 to 500', default: 50, example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(500, { message: 'limit must be at most 500' })
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @IsOptional()
  @IsDepositCursor()
  cursor?: string;
}

export class WalletIdParamDto {
  @ApiProperty({ description: 'Wallet id (UUID)', example: '9b2f3c1e-7d4a-4e0b-8f55-1a2b3c4d5e6f' })
  @Matches(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
    message: 'wallet_id must be a UUID',
  })
  wallet_id: string;
}

export class TxHashParamDto {
  @ApiProperty({ example: '0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060' })
  @IsTxHash()
  tx_hash: string;
}
