import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { AuthUser } from '../auth/auth-user.js';
import { walletRoom } from '../events/domain-events.js';
import { isEvmAddress, normalizeAddress } from '../common/evm.js';
import { Wallet } from '../wallets/wallet.entity.js';

export type RoomAccess = { ok: true; room: string } | { ok: false; error: string };

/** Who may join which wallet room: only the owner of that wallet (checked on every join). */
@Injectable()
export class WalletAccessService {
  constructor(private readonly dataSource: DataSource) {}

  async walletRoomFor(user: AuthUser, address: unknown): Promise<RoomAccess> {
    if (!isEvmAddress(address)) {
      return {
        ok: false,
        error:
          'wallet_address must be a 0x-prefixed 20-byte hex address (mixed case must pass its EIP-55 checksum)',
      };
    }
    const owned = await this.dataSource
      .getRepository(Wallet)
      .existsBy({ userId: user.id, address: normalizeAddress(address) });
    if (!owned) return { ok: false, error: 'wallet_address is not one of your wallets' };
    return { ok: true, room: walletRoom(address) };
  }

  /** Of the given (user, wallet room) memberships, those whose wallet the user no longer has. */
  async revoked(memberships: readonly { userId: string; room: string }[]): Promise<Set<number>> {
    const revoked = new Set<number>();
    if (memberships.length === 0) return revoked;
    const rows: { user_id: string; address: string }[] = await this.dataSource.query(
      `SELECT user_id, address FROM wallets WHERE address = ANY($1::text[])`,
      [[...new Set(memberships.map((m) => m.room))]],
    );
    const owned = new Set(rows.map((r) => `${r.user_id}:${r.address}`));
    memberships.forEach((m, i) => {
      if (!owned.has(`${m.userId}:${m.room}`)) revoked.add(i);
    });
    return revoked;
  }
}
