import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ description: 'Account email', example: 'alice@example.com' })
  @IsEmail({}, { message: 'email must be an email address' })
  @MaxLength(254)
  email: string;

  @ApiProperty({ description: 'Account password', example: 'correct horse battery staple' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password: string;
}

export class TokenResponseDto {
  @ApiProperty({
    description: 'JWT to send as `Authorization: Bearer <token>`',
    example: 'eyJhbGciOiJIUzI1NiJ9…',
  })
  access_token: string;

  @ApiProperty({ description: 'Always "Bearer"', example: 'Bearer' })
  token_type: 'Bearer';

  @ApiProperty({ description: 'Seconds until the token expires', example: 3600 })
  expires_in: number;
}
