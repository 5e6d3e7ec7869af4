import { Injectable } from '@nestjs/common';

import type { AuthUser } from '../auth/auth-user.js';
import { findOrFail } from '../common/find-or-fail.js';
import { WalletsService } from '../wallets/wallets.service.js';
import { DepositsRepository } from './deposits.repository.js';
import type { ListDepositsQueryDto } from './dto/deposit-query.dto.js';
import {
  type DepositPageDto,
  type DepositResponseDto,
  toDepositResponse,
} from './dto/deposit-response.dto.js';

const DEFAULT_PAGE_SIZE = 50;

@Injectable()
export class DepositsService {
  constructor(
    private readonly deposits: DepositsRepository,
    private readonly wallets: WalletsService,
  ) {}

  async listForWallet(
    caller: AuthUser,
    walletId: string,
    query: ListDepositsQueryDto,
  ): Promise<DepositPageDto> {
    const wallet = await this.wallets.findOwned(caller, walletId);
    return this.page({ address: wallet.address }, query);
  }

  /** Every wallet of the caller's, newest first (a deleted wallet's deposits are no longer the caller's). */
  listOwned(caller: AuthUser, query: ListDepositsQueryDto): Promise<DepositPageDto> {
    return this.page({ userId: caller.id }, query);
  }

  private async page(
    owner: { address: string } | { userId: string },
    query: ListDepositsQueryDto,
  ): Promise<DepositPageDto> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const [detectedMicros, id] = query.cursor?.split('.') ?? [];
    const rows = await this.deposits.page({
      owner,
      status: query.status,
      network: query.network,
      limit: limit + 1,
      after: detectedMicros && id ? { detectedMicros, id } : undefined,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toDepositResponse),
      next_cursor: rows.length > limit && last ? `${last.detected_us}.${last.id}` : null,
    };
  }

  async getOwned(caller: AuthUser, id: string): Promise<DepositResponseDto> {
    return toDepositResponse(findOrFail(await this.deposits.findOwned(caller.id, id), 'deposit'));
  }

  async listOwnedByTx(caller: AuthUser, txHash: string): Promise<DepositResponseDto[]> {
    const rows = await this.deposits.findOwnedByTx(caller.id, txHash);
    findOrFail(rows.length > 0 ? rows : null, 'deposit');
    return rows.map(toDepositResponse);
  }
}
