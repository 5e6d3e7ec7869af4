import { ConflictException, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { AuthUser } from '../auth/auth-user.js';
import { PasswordHasher } from '../auth/password-hasher.js';
import { isUniqueViolation } from '../common/db-errors.js';
import { findOrFail } from '../common/find-or-fail.js';
import { type CreateUserDto, toUserResponse, type UserResponseDto } from './dto/user.dto.js';
import { User } from './user.entity.js';

@Injectable()
export class UsersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
  ) {}

  private get users() {
    return this.dataSource.getRepository(User);
  }

  async create({ email, password }: CreateUserDto): Promise<UserResponseDto> {
    const passwordHash = await this.hasher.hash(password);
    try {
      const user = await this.users.save(this.users.create({ email: email.toLowerCase(), passwordHash }));
      return toUserResponse(user);
    } catch (error) {
      if (isUniqueViolation(error, 'users_email_key')) {
        throw new ConflictException('email is already registered');
      }
      throw error;
    }
  }

  /** A user sees only themself: any other id is "not found", never their data. */
  async getOwned(caller: AuthUser, id: string): Promise<UserResponseDto> {
    const user = id === caller.id ? await this.users.findOneBy({ id }) : null;
    return toUserResponse(findOrFail(user, 'user'));
  }

  async getOwnedByEmail(caller: AuthUser, email: string): Promise<UserResponseDto> {
    const user =
      email.toLowerCase() === caller.email.toLowerCase()
        ? await this.users.findOneBy({ id: caller.id })
        : null;
    return toUserResponse(findOrFail(user, 'user'));
  }

  async me(caller: AuthUser): Promise<UserResponseDto> {
    return toUserResponse(findOrFail(await this.users.findOneBy({ id: caller.id }), 'user'));
  }
}
