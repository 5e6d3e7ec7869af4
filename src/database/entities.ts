import { Deposit } from '../deposits/deposit.entity.js';
import { Network } from '../networks/network.entity.js';
import { Token } from '../networks/token.entity.js';
import { User } from '../users/user.entity.js';
import { Wallet } from '../wallets/wallet.entity.js';

/** Every TypeORM entity; a new one is added here. */
export const ENTITIES = [Network, Token, User, Wallet, Deposit];
