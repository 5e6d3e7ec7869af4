import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { createClient, type RedisClientType } from 'redis';

import { closeRedis, connectRedis } from '../common/redis-connect.js';
import { TooManyRequestsException } from '../common/too-many-requests.exception.js';
import type { AppConfig } from '../config/config.js';

interface LimitedRequest {
  ip?: string;
  body?: unknown;
}

/** The account a login or sign-up names (lower-cased email), read before validation, or none. */
const accountOf = (request: LimitedRequest): string | undefined => {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.length <= 254 ? email.toLowerCase() : undefined;
};

/**
 * Two fixed windows over login and sign-up attempts (`AUTH_RATE_LIMIT_*`): per client IP and
 * route (as Express sees the IP, so behind a proxy set TRUST_PROXY), and per account (the email,
 * from any IP and either route: password guessing spread over many addresses; a successful login
 * clears it). Counted in this process, or in Redis when
 * REDIS_URL is set so every API process shares them (with an in-memory fallback while Redis is
 * away: limits keep holding per process instead of failing open or answering 500).
 */
export class AuthRateLimiter implements OnApplicationShutdown {
  private constructor(
    private readonly perIp: RateLimiterMemory | RateLimiterRedis,
    private readonly perAccount: RateLimiterMemory | RateLimiterRedis,
    private readonly redis?: RedisClientType,
  ) {}

  static async create(config: AppConfig): Promise<AuthRateLimiter> {
    const { rateLimitPerIp, rateLimitPerAccount, rateLimitWindowSeconds: duration } = config.auth;
    const { redisUrl, redisConnectTimeoutMs } = config.realtime;
    const options = (keyPrefix: string, points: number) => ({ keyPrefix, points, duration });
    if (redisUrl === undefined) {
      return new AuthRateLimiter(
        new RateLimiterMemory(options('auth-ip', rateLimitPerIp)),
        new RateLimiterMemory(options('auth-account', rateLimitPerAccount)),
      );
    }
    const redis: RedisClientType = createClient({ url: redisUrl });
    const logger = new Logger(AuthRateLimiter.name);
    let down = false;
    redis.on('error', (error: Error) => {
      if (!down) logger.warn(`redis rate-limit connection: ${error.message} (counting in memory meanwhile)`);
      down = true;
    });
    redis.on('ready', () => (down = false));
    await connectRedis(redisUrl, redisConnectTimeoutMs, 'rate limits', redis);
    const shared = (keyPrefix: string, points: number) =>
      new RateLimiterRedis({
        ...options(keyPrefix, points),
        storeClient: redis,
        useRedisPackage: true,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(options(keyPrefix, points)),
      });
    return new AuthRateLimiter(
      shared('auth-ip', rateLimitPerIp),
      shared('auth-account', rateLimitPerAccount),
      redis,
    );
  }

  /** Counts one attempt for `route`; throws 429 with Retry-After past a limit. */
  async consume(route: string, request: LimitedRequest): Promise<void> {
    await this.take(this.perIp, `${route}:${request.ip ?? 'unknown'}`, 'from this address');
    const account = accountOf(request);
    if (account !== undefined) await this.take(this.perAccount, account, 'for this account');
  }

  /** A successful login: that account's failed attempts are forgiven (its owner is not locked out). */
  async forgive(email: string): Promise<void> {
    await this.perAccount.delete(email.toLowerCase());
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis) await closeRedis(this.redis);
  }

  private async take(limiter: RateLimiterMemory | RateLimiterRedis, key: string, which: string) {
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const seconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new TooManyRequestsException(
        `too many login or sign-up attempts ${which}: retry in ${seconds} s`,
        seconds,
      );
    }
  }
}

/** On `POST /auth/login` and `POST /users`: past a limit, 429 with `Retry-After`. */
@Injectable()
export class AuthRateLimitGuard implements CanActivate {
  constructor(private readonly limiter: AuthRateLimiter) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = `${context.getClass().name}.${context.getHandler().name}`;
    await this.limiter.consume(route, context.switchToHttp().getRequest<LimitedRequest>());
    return true;
  }
}
