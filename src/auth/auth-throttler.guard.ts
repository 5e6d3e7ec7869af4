import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerModuleOptions } from '@nestjs/throttler';

import type { AppConfig } from '../config/config.js';
import { TooManyRequestsException } from '../common/too-many-requests.exception.js';
import type { RedisThrottlerStorage } from './redis-throttler.storage.js';

type Request = { ip?: string; body?: unknown };

/** The account a login or sign-up names (lower-cased email), read before validation, or none. */
const accountOf = (request: Request): string | undefined => {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.length <= 254 ? email.toLowerCase() : undefined;
};

/**
 * Two fixed windows on login and sign-up (`AUTH_RATE_LIMIT_*`): per client IP (`ip`, as Express
 * sees it with TRUST_PROXY), and per account (`account`, the email, from any IP: slows password
 * guessing spread over many addresses). Counted in memory, or in Redis when REDIS_URL is set so
 * every API process shares them.
 */
export function authThrottlerOptions(
  config: AppConfig,
  storage?: RedisThrottlerStorage,
): ThrottlerModuleOptions {
  const ttl = config.auth.rateLimitWindowSeconds * 1000;
  return {
    storage,
    setHeaders: false,
    throttlers: [
      { name: 'ip', limit: config.auth.rateLimitPerIp, ttl },
      {
        name: 'account',
        limit: config.auth.rateLimitPerAccount,
        ttl,
        getTracker: (request) => `account:${accountOf(request) ?? ''}`,
        skipIf: (context) => accountOf(context.switchToHttp().getRequest<Request>()) === undefined,
      },
    ],
  };
}

/** Applied to `POST /auth/login` and `POST /users`: past a limit, 429 with `Retry-After`. */
@Injectable()
export class AuthThrottlerGuard extends ThrottlerGuard {
  protected override throwThrottlingException(
    _: ExecutionContext,
    { timeToBlockExpire, tracker }: ThrottlerLimitDetail,
  ): Promise<void> {
    const which = tracker.startsWith('account:') ? 'for this account' : 'from this address';
    throw new TooManyRequestsException(
      `too many login or sign-up attempts ${which}: retry in ${timeToBlockExpire} s`,
      timeToBlockExpire,
    );
  }
}
