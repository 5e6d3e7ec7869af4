import { createSecretKey } from 'node:crypto';

import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ThrottlerModule } from '@nestjs/throttler';

import { connectRedis } from '../common/redis-connect.js';
import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AuthThrottlerGuard, authThrottlerOptions } from './auth-throttler.guard.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { resolveJwtSecret } from './jwt-secret.js';
import { PasswordHasher } from './password-hasher.js';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

@Global()
@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // A KeyObject, made once: given a string, jsonwebtoken first tries to read it as a PEM
        // public key on every verify and makes a secret key from it when that throws (~0.6 ms of
        // CPU per authenticated request or socket connection, against ~15 µs this way).
        secret: createSecretKey(Buffer.from(resolveJwtSecret(config))),
        signOptions: { expiresIn: config.auth.jwtExpiresInSeconds, algorithm: 'HS256' },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const { redisUrl, redisConnectTimeoutMs } = config.realtime;
        const storage = redisUrl
          ? new RedisThrottlerStorage(await connectRedis(redisUrl, redisConnectTimeoutMs, 'rate limits'))
          : undefined;
        return authThrottlerOptions(config, storage);
      },
    }),
  ],
  controllers: [AuthController],
  providers: [AuthService, PasswordHasher, AuthThrottlerGuard, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService, PasswordHasher, AuthThrottlerGuard],
})
export class AuthModule {}
