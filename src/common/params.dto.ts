import { ApiProperty } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';

export class IdParamDto {
  @ApiProperty({ description: 'Resource id (UUID)', example: '3f1c1b5e-4b7a-4f55-9a55-0c1f0f5c9d11' })
  @IsUUID('all', { message: 'id must be a UUID' })
  id: string;
}
