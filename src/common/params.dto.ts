import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsUUID, Matches, Max, Min } from 'class-validator';

export class IdParamDto {
  @ApiProperty({ description: 'Resource id (UUID)', example: '3f1c1b5e-4b7a-4f55-9a55-0c1f0f5c9d11' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id: string;
}

/** `?limit=&cursor=` of a list paged by a numeric id cursor (alert history, webhook deliveries). */
export class IdCursorPageQueryDto {
  @ApiPropertyOptional({ description: 'Page size, 1 to 200', default: 50, example: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(200, { message: 'limit must be at most 200' })
  limit?: number;

  @ApiPropertyOptional({ description: '`next_cursor` of the previous page' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'cursor must be a next_cursor from a previous page' })
  cursor?: string;
}
