import { Body, Controller, Get, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';

import { AuthRateLimitGuard } from '../auth/auth-rate-limit.guard.js';
import type { AuthUser } from '../auth/auth-user.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { Public } from '../auth/public.decorator.js';
import { IdParamDto } from '../common/params.dto.js';
import { CreateUserDto, EmailParamDto, UserResponseDto } from './dto/user.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Public()
  @Post()
  @UseGuards(AuthRateLimitGuard)
  @ApiCreatedResponse({ type: UserResponseDto, description: 'The account was created' })
  @ApiConflictResponse({ description: 'The email is already registered' })
  @ApiBadRequestResponse({ description: 'Malformed email or password, or a common one' })
  @ApiTooManyRequestsResponse({
    description: 'Too many attempts from this IP or for this account (Retry-After)',
  })
  create(@Body() body: CreateUserDto): Promise<UserResponseDto> {
    return this.users.create(body);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserResponseDto })
  me(@CurrentUser() user: AuthUser): Promise<UserResponseDto> {
    return this.users.me(user);
  }

  @Get('by-email/:email')
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserResponseDto })
  @ApiNotFoundResponse({ description: 'No such user among those the caller may see (only themself)' })
  byEmail(@CurrentUser() user: AuthUser, @Param() { email }: EmailParamDto): Promise<UserResponseDto> {
    return this.users.getOwnedByEmail(user, email);
  }

  @Get(':id')
  @ApiBearerAuth()
  @ApiOkResponse({ type: UserResponseDto })
  @ApiNotFoundResponse({ description: 'No such user among those the caller may see (only themself)' })
  get(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<UserResponseDto> {
    return this.users.getOwned(user, id);
  }
}
