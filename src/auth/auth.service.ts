import { Injectable, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { DataSource } from 'typeorm';

import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { User } from '../users/user.entity.js';
import { AuthRateLimiter } from './auth-rate-limit.guard.js';
import type { AuthUser } from './auth-user.js';
import type { LoginDto, TokenResponseDto } from './dto/login.dto.js';
import { hashPassword } from './password.js';
import { PasswordHasher } from './password-hasher.js';

interface TokenClaims {
  sub: string;
  email: string;
}

@Injectable()
export class AuthService {
  /** Checked against when the email is unknown, so both failures take the same time. */
  private readonly decoyHash = hashPassword('decoy password');

  constructor(
    private readonly jwt: JwtService,
    private readonly hasher: PasswordHasher,
    private readonly limiter: AuthRateLimiter,
    private readonly dataSource: DataSource,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async login({ email, password }: LoginDto): Promise<TokenResponseDto> {
    const user = await this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('lower(u.email) = lower(:email)', { email })
      .getOne();
    const valid = await this.hasher.verify(password, user?.passwordHash ?? (await this.decoyHash));
    if (!user || !valid) throw new UnauthorizedException('email or password is wrong');
    await this.limiter.forgive(email);
    const claims: TokenClaims = { sub: user.id, email: user.email };
    return {
      access_token: await this.jwt.signAsync(claims),
      token_type: 'Bearer',
      expires_in: this.config.auth.jwtExpiresInSeconds,
    };
  }

  /** Used by the HTTP guard and the Socket.IO gateway alike. */
  async verify(token: string): Promise<AuthUser> {
    try {
      const claims = await this.jwt.verifyAsync<TokenClaims>(token);
      if (typeof claims.sub !== 'string' || typeof claims.email !== 'string') throw new Error('claims');
      return { id: claims.sub, email: claims.email };
    } catch {
      throw new UnauthorizedException('access token is invalid or expired');
    }
  }
}
