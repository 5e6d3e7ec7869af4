import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

import type { FinalityRule } from '../network.entity.js';

export class UpdateNetworkDto {
  @ApiPropertyOptional({
    description: 'Confirmations after which a deposit completes; applies to pending deposits at once',
    example: 20,
    minimum: 1,
    maximum: 100000,
  })
  @IsOptional()
  @IsInt({ message: 'required_confirmations must be a whole number' })
  @Min(1)
  @Max(100_000)
  required_confirmations?: number;

  @ApiPropertyOptional({ enum: ['confirmations', 'finalized'], example: 'confirmations' })
  @IsOptional()
  @IsIn(['confirmations', 'finalized'], { message: 'finality_rule must be "confirmations" or "finalized"' })
  finality_rule?: FinalityRule;

  @ApiPropertyOptional({
    description: 'false stops following the network; true resumes from its cursor',
    example: true,
  })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;
}
