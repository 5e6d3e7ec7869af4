import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { AuthRateLimitGuard } from './auth-rate-limit.guard.js';
import { AuthService } from './auth.service.js';
import { LoginDto, TokenResponseDto } from './dto/login.dto.js';
import { Public } from './public.decorator.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @UseGuards(AuthRateLimitGuard)
  @HttpCode(200)
  @ApiOkResponse({ type: TokenResponseDto, description: 'A bearer token for the account' })
  @ApiUnauthorizedResponse({ description: 'Email or password is wrong' })
  @ApiBadRequestResponse({ description: 'Malformed body' })
  @ApiTooManyRequestsResponse({
    description: 'Too many attempts from this IP or for this account (Retry-After)',
  })
  login(@Body() body: LoginDto): Promise<TokenResponseDto> {
    return this.auth.login(body);
  }
}
