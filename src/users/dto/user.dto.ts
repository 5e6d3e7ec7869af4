import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

import { IsAcceptablePassword } from '../../auth/password-policy.js';
import type { User } from '../user.entity.js';

export class CreateUserDto {
  @ApiProperty({ description: 'Email address, unique case-insensitively', example: 'alice@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({
    description: 'Password, 8 to 256 characters; not only whitespace, not one of the most common passwords',
    example: 'correct horse battery staple',
  })
  @IsString()
  @MinLength(8, { message: 'password must be at least 8 characters' })
  @MaxLength(256)
  @IsAcceptablePassword()
  password: string;
}

export class EmailParamDto {
  @ApiProperty({ description: 'Email address', example: 'alice@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email: string;
}

export class UserResponseDto {
  @ApiProperty({ description: 'User id', example: '3f1c1b5e-4b7a-4f55-9a55-0c1f0f5c9d11' })
  id: string;

  @ApiProperty({ description: 'Email address (lower-cased)', example: 'alice@example.com' })
  email: string;

  @ApiProperty({ description: 'When the account was created', example: '2026-11-30T12:00:00.000Z' })
  created_at: string;
}

export const toUserResponse = (user: User): UserResponseDto => ({
  id: user.id,
  email: user.email,
  created_at: user.createdAt.toISOString(),
});
