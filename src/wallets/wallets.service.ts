import { ConflictException, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { AuthUser } from '../auth/auth-user.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { isUniqueViolation } from '../common/db-errors.js';
import { normalizeAddress } from '../common/evm.js';
import { findOrFail } from '../common/find-or-fail.js';
import { type CreateWalletDto, toWalletResponse, type WalletResponseDto } from './dto/wallet.dto.js';
import { Wallet } from './wallet.entity.js';

@Injectable()
export class WalletsService {
  constructor(
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  private get wallets() {
    return this.dataSource.getRepository(Wallet);
  }

  async create(caller: AuthUser, dto: CreateWalletDto): Promise<WalletResponseDto> {
    const limit = this.config.limits.walletsPerUser;
    try {
      const wallet = await this.dataSource.transaction(async (manager) => {
        // The user's row lock serializes their creations, so parallel ones cannot pass the limit.
        await manager.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [caller.id]);
        const wallets = manager.getRepository(Wallet);
        if ((await wallets.countBy({ userId: caller.id })) >= limit) {
          throw new ConflictException(
            `you have ${limit} wallets, the most allowed (MAX_WALLETS_PER_USER): delete one first`,
          );
        }
        return wallets.save(
          wallets.create({
            userId: caller.id,
            address: normalizeAddress(dto.address),
            label: dto.label ?? null,
            startBlock: dto.start_block ?? null,
          }),
        );
      });
      return toWalletResponse(wallet);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictException('address is already one of your wallets');
      throw error;
    }
  }

  async listForUser(caller: AuthUser, userId: string): Promise<WalletResponseDto[]> {
    findOrFail(userId === caller.id ? userId : null, 'user');
    const wallets = await this.wallets.find({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
    return wallets.map(toWalletResponse);
  }

  async findOwned(caller: AuthUser, id: string): Promise<Wallet> {
    return findOrFail(await this.wallets.findOneBy({ id, userId: caller.id }), 'wallet');
  }

  async getOwned(caller: AuthUser, id: string): Promise<WalletResponseDto> {
    return toWalletResponse(await this.findOwned(caller, id));
  }

  async deleteOwned(caller: AuthUser, id: string): Promise<void> {
    const result = await this.wallets.delete({ id, userId: caller.id });
    findOrFail(result.affected ? true : null, 'wallet');
  }
}
