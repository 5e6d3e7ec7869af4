import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';

import type { AuthUser } from '../auth/auth-user.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { IdParamDto } from '../common/params.dto.js';
import { CreateWalletDto, UserIdParamDto, WalletResponseDto } from './dto/wallet.dto.js';
import { WalletsService } from './wallets.service.js';

@ApiTags('wallets')
@ApiBearerAuth()
@Controller('wallets')
export class WalletsController {
  constructor(private readonly wallets: WalletsService) {}

  @Post()
  @ApiCreatedResponse({
    type: WalletResponseDto,
    description: 'Watched from the next block (or from start_block)',
  })
  @ApiConflictResponse({ description: 'The address is already one of your wallets' })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateWalletDto): Promise<WalletResponseDto> {
    return this.wallets.create(user, body);
  }

  @Get('user/:user_id')
  @ApiOkResponse({ type: [WalletResponseDto] })
  @ApiNotFoundResponse({ description: 'Not the caller’s user id' })
  listForUser(
    @CurrentUser() user: AuthUser,
    @Param() { user_id }: UserIdParamDto,
  ): Promise<WalletResponseDto[]> {
    return this.wallets.listForUser(user, user_id);
  }

  @Get(':id')
  @ApiOkResponse({ type: WalletResponseDto })
  @ApiNotFoundResponse({ description: 'No such wallet among the caller’s' })
  get(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<WalletResponseDto> {
    return this.wallets.getOwned(user, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted; its deposits stay recorded' })
  @ApiNotFoundResponse({ description: 'No such wallet among the caller’s' })
  delete(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<void> {
    return this.wallets.deleteOwned(user, id);
  }
}
