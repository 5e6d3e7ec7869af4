import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';

import type { AuthUser } from '../auth/auth-user.js';
import { CurrentUser } from '../auth/current-user.decorator.js';
import { IdParamDto } from '../common/params.dto.js';
import { DepositsService } from './deposits.service.js';
import { ListDepositsQueryDto, TxHashParamDto, WalletIdParamDto } from './dto/deposit-query.dto.js';
import { DepositPageDto, DepositResponseDto } from './dto/deposit-response.dto.js';

@ApiTags('deposits')
@ApiBearerAuth()
@Controller('deposits')
export class DepositsController {
  constructor(private readonly deposits: DepositsService) {}

  @Get()
  @ApiOkResponse({
    type: DepositPageDto,
    description: 'Deposits to all of the caller’s wallets, newest first',
  })
  list(@CurrentUser() user: AuthUser, @Query() query: ListDepositsQueryDto): Promise<DepositPageDto> {
    return this.deposits.listOwned(user, query);
  }

  @Get('wallet/:wallet_id')
  @ApiOkResponse({ type: DepositPageDto })
  @ApiNotFoundResponse({ description: 'No such wallet among the caller’s' })
  listForWallet(
    @CurrentUser() user: AuthUser,
    @Param() { wallet_id }: WalletIdParamDto,
    @Query() query: ListDepositsQueryDto,
  ): Promise<DepositPageDto> {
    return this.deposits.listForWallet(user, wallet_id, query);
  }

  @Get('tx/:tx_hash')
  @ApiOkResponse({
    type: [DepositResponseDto],
    description: 'Every deposit of the transaction to the caller’s wallets',
  })
  @ApiNotFoundResponse({ description: 'No deposit of that transaction to the caller’s wallets' })
  byTx(@CurrentUser() user: AuthUser, @Param() { tx_hash }: TxHashParamDto): Promise<DepositResponseDto[]> {
    return this.deposits.listOwnedByTx(user, tx_hash);
  }

  @Get(':id')
  @ApiOkResponse({ type: DepositResponseDto })
  @ApiNotFoundResponse({ description: 'No such deposit to the caller’s wallets' })
  get(@CurrentUser() user: AuthUser, @Param() { id }: IdParamDto): Promise<DepositResponseDto> {
    return this.deposits.getOwned(user, id);
  }
}
