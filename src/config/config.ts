/**
 * The environment, parsed and validated once at boot into a typed object. Nothing else reads
 * `process.env`: modules inject `AppConfig`. A bad or missing variable stops the start with a
 * message naming it (every problem at once, not the first one only).
 */

export type AppRole = 'all' | 'api' | 'monitor';

export interface AppConfig {
  readonly env: 'development' | 'production' | 'test';
  /** `all` = API + gateway + monitor; `api` = API + gateway; `monitor` = chain followers only. */
  readonly role: AppRole;
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly corsOrigins: readonly string[];
    readonly bodyLimit: string;
    /** The built web app (index.html + assets) served at `/`; absent = no web app, the API alone. */
    readonly webDir: string;
    /** Express `trust proxy`: how X-Forwarded-* is believed (client IP for rate limits, https for HSTS). */
    readonly trustProxy: boolean | number | string;
    /** Strict-Transport-Security max-age in seconds, sent on requests that arrived over https; 0 = none. */
    readonly hstsMaxAgeSeconds: number;
  };
  readonly database: {
    /** Unset means: start the embedded PostgreSQL under `embeddedDir`. */
    readonly url: string | undefined;
    readonly embeddedDir: string;
    readonly embeddedPort: number;
    readonly poolSize: number;
  };
  readonly auth: {
    /** Unset means: a secret generated once and kept in the data directory. */
    readonly jwtSecret: string | undefined;
    readonly jwtExpiresInSeconds: number;
    /** `ADMIN_EMAILS`, lower-cased: users who may change networks at run time. */
    readonly adminEmails: readonly string[];
    /** Login and sign-up attempts allowed per client IP per window (429 with Retry-After past it). */
    readonly rateLimitPerIp: number;
    /** Login and sign-up attempts allowed per account (email) per window, from any IP. */
    readonly rateLimitPerAccount: number;
    readonly rateLimitWindowSeconds: number;
    /** Password hashes (scrypt) computed at once; more wait in a queue of `passwordHashQueue`. */
    readonly passwordHashConcurrency: number;
    /** Hashes waiting beyond this answer 429 with Retry-After instead of queueing without bound. */
    readonly passwordHashQueue: number;
  };
  readonly limits: {
    readonly walletsPerUser: number;
    readonly alertsPerUser: number;
  };
  readonly dataDir: string;
  readonly realtime: {
    /**
     * `REDIS_URL`: events cross processes through Redis (@socket.io/redis-adapter / -emitter).
     * Unset means through PostgreSQL (@socket.io/postgres-adapter / -emitter): no extra service.
     */
    readonly redisUrl: string | undefined;
    /** How long the start waits for Redis (REDIS_URL) before it stops with a message. */
    readonly redisConnectTimeoutMs: number;
    /**
     * Events (the replay of `since_event_id`, webhook replays) are deleted this many days after
     * they were written, once the webhook fan-out has passed them; 0 = kept.
     */
    readonly eventLogRetentionDays: number;
  };
  readonly monitor: {
    /** Per-network RPC endpoints from `RPC_URL_<KEY>` (key lower-cased), ws:// or http(s)://. */
    readonly rpcUrls: Readonly<Record<string, string>>;
    readonly alchemyApiKey: string | undefined;
    /** Spawn a local anvil when no other chain is configured (the zero-setup default). */
    readonly devnetSpawn: boolean;
    readonly devnetRpcUrl: string | undefined;
    readonly devnetPort: number;
    readonly devnetBlockTimeSeconds: number;
    readonly pollIntervalMs: number;
    readonly stallTimeoutMs: number;
    readonly windowSize: number;
    readonly backfillBatchSize: number;
  };
  readonly alerts: {
    readonly enabled: boolean;
    readonly binanceWsUrl: string;
    readonly symbols: readonly string[];
    readonly priceStaleSeconds: number;
    readonly defaultCooldownSeconds: number;
    /** Firings of one user within this window go out as one message. */
    readonly coalesceMs: number;
    /** The public price stream sends at most one update per symbol per this many ms. */
    readonly priceStreamIntervalMs: number;
  };
  readonly smtp: {
    readonly host: string | undefined;
    readonly port: number;
    readonly secure: boolean;
    readonly user: string | undefined;
    readonly password: string | undefined;
    readonly from: string;
    /** First retry delay of a failed email; doubles per attempt (with jitter), capped at 15 min. */
    readonly retryBaseMs: number;
    /** Attempts before an email is given up (recorded failed, no further retry). */
    readonly maxAttempts: number;
  };
  readonly webhooks: {
    /** Delays before each retry (the first attempt is immediate); its length + 1 = attempts per message. */
    readonly retryScheduleMs: readonly number[];
    /** Whole-attempt timeout (connect, send, response head and body). */
    readonly timeoutMs: number;
    /** Allow loopback, private, link-local and metadata addresses (development and tests only). */
    readonly allowPrivateUrls: boolean;
    readonly maxEndpointsPerUser: number;
    /** Attempts in flight to one endpoint at a time (across processes). */
    readonly endpointConcurrency: number;
    /** How long the old secret keeps signing alongside the new one after a rotation. */
    readonly secretOverlapSeconds: number;
    /** Fallback poll of the event log and due retries (new events in this process wake it at once). */
    readonly pollIntervalMs: number;
    /** Finished messages (and their attempts) are deleted this many days after they finished; 0 = kept. */
    readonly retentionDays: number;
  };
  readonly observability: {
    /** `silent` turns application logs off (the test helpers' default). */
    readonly logLevel: LogLevel;
    /** `json`: one JSON object a line (production); `pretty`: coloured lines (development). */
    readonly logFormat: 'json' | 'pretty';
    /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
    readonly metricsToken: string | undefined;
    /** Role `monitor`: serve /metrics and /health/* on this port (unset: no HTTP listener). */
    readonly metricsPort: number | undefined;
  };
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return Number(value);
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.problems.push(`${name} must be a URL (got "${value}")`);
      return undefined;
    }
    if (!protocols.includes(parsed.protocol)) {
      this.problems.push(`${name} must use ${protocols.join(' or ')} (got "${parsed.protocol}")`);
      return undefined;
    }
    return value;
  }

  /** Comma-separated durations such as "5s,5m,30m,2h" (units ms, s, m, h), in milliseconds. */
  durations(name: string, fallback: string): number[] {
    const value = this.raw(name) ?? fallback;
    const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    const out: number[] = [];
    for (const item of value.split(',').map((i) => i.trim())) {
      const match = /^(\d+)(ms|s|m|h)$/.exec(item);
      if (!match || Number(match[1]) * units[match[2]] > 7 * 86_400_000) {
        this.problems.push(
          `${name} must be comma-separated durations like "5s,5m,2h" (units ms, s, m, h; each at most 7 days; got "${item}")`,
        );
        return parseDurations(fallback);
      }
      out.push(Number(match[1]) * units[match[2]]);
    }
    if (out.length > 20) this.problems.push(`${name} may list at most 20 retries`);
    return out;
  }

  list(name: string, fallback: readonly string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
}

/** TRUST_PROXY: true/false, a hop count, or Express's names/addresses (`loopback`, `10.0.0.0/8, …`). */
function trustProxy(r: Reader): boolean | number | string {
  const value = r.optional('TRUST_PROXY');
  if (value === undefined) return false;
  if (/^\d+$/.test(value)) return r.int('TRUST_PROXY', 0, 0, 100);
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  if (!/^[\w.:/, -]+$/.test(value)) {
    r.problems.push(`TRUST_PROXY must be true, false, a hop count, or addresses/subnets (got "${value}")`);
    return false;
  }
  return value;
}
const parseDurations = (text: string): number[] => new Reader({}).durations('default', text);

/** Standard Webhooks' (Svix's) schedule: 8 attempts over ~27.5 hours. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';

const RPC_PREFIX = 'RPC_URL_';
const RPC_PROTOCOLS = ['ws:', 'wss:', 'http:', 'https:'];

export function loadConfig(env: Env = process.env): AppConfig {
  const r = new Reader(env);
  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');

  const rpcUrls: Record<string, string> = {};
  for (const name of Object.keys(env).filter((n) => n.startsWith(RPC_PREFIX))) {
    const key = name.slice(RPC_PREFIX.length).toLowerCase();
    const url = r.url(name, RPC_PROTOCOLS);
    if (!/^[a-z0-9_-]+$/.test(key))
      r.problems.push(`${name}: the network key after RPC_URL_ is empty or invalid`);
    else if (url !== undefined) rpcUrls[key] = url;
  }
  const devnetRpcUrl = r.url('DEVNET_RPC_URL', RPC_PROTOCOLS);
  const alchemyApiKey = r.optional('ALCHEMY_API_KEY');
  const otherChainConfigured = alchemyApiKey !== undefined || Object.keys(rpcUrls).length > 0;

  const symbols = r.list('ALERT_SYMBOLS', ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'XRPUSDT', 'DOGEUSDT']);
  for (const symbol of symbols) {
    if (!/^[A-Za-z0-9]{2,20}$/.test(symbol))
      r.problems.push(`ALERT_SYMBOLS has an invalid symbol "${symbol}"`);
  }

  const smtpUser = r.optional('SMTP_USER');
  const smtpPassword = r.optional('SMTP_PASSWORD');
  if ((smtpUser === undefined) !== (smtpPassword === undefined)) {
    r.problems.push('SMTP_USER and SMTP_PASSWORD must be set together');
  }

  const jwtSecret = r.optional('JWT_SECRET');
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    r.problems.push('JWT_SECRET must be at least 32 characters');
  }

  const adminEmails = r.list('ADMIN_EMAILS', []).map((e) => e.toLowerCase());
  for (const email of adminEmails) {
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) r.problems.push(`ADMIN_EMAILS has an invalid email "${email}"`);
  }
  const metricsToken = r.optional('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 16) {
    r.problems.push('METRICS_TOKEN must be at least 16 characters');
  }
  const metricsPort =
    r.optional('METRICS_PORT') === undefined ? undefined : r.int('METRICS_PORT', 0, 1, 65535);

  const dataDir = r.string('DATA_DIR', './data');
  const config: AppConfig = {
    env: nodeEnv,
    role: r.oneOf('APP_ROLE', ['all', 'api', 'monitor'] as const, 'all'),
    http: {
      host: r.string('HOST', '0.0.0.0'),
      port: r.int('PORT', 3000, 0, 65535),
      corsOrigins: r.list('CORS_ORIGINS', []),
      bodyLimit: r.string('BODY_LIMIT', '100kb'),
      webDir: r.string('WEB_DIR', 'web/dist'),
      trustProxy: trustProxy(r),
      hstsMaxAgeSeconds: r.int('HSTS_MAX_AGE_SECONDS', 15_552_000, 0, 2 * 365 * 86_400),
    },
    database: {
      url: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
      embeddedDir: r.string('EMBEDDED_PG_DIR', `${dataDir}/postgres`),
      embeddedPort: r.int('EMBEDDED_PG_PORT', 54329, 1, 65535),
      poolSize: r.int('DB_POOL_SIZE', 10, 1, 200),
    },
    auth: {
      jwtSecret,
      jwtExpiresInSeconds: r.int('JWT_EXPIRES_IN_SECONDS', 3600, 60, 30 * 24 * 3600),
      adminEmails,
      rateLimitPerIp: r.int('AUTH_RATE_LIMIT_PER_IP', 20, 1, 1_000_000),
      rateLimitPerAccount: r.int('AUTH_RATE_LIMIT_PER_ACCOUNT', 10, 1, 1_000_000),
      rateLimitWindowSeconds: r.int('AUTH_RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400),
      passwordHashConcurrency: r.int('PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
      passwordHashQueue: r.int('PASSWORD_HASH_QUEUE', 64, 0, 100_000),
    },
    limits: {
      walletsPerUser: r.int('MAX_WALLETS_PER_USER', 100, 1, 1_000_000),
      alertsPerUser: r.int('MAX_ALERTS_PER_USER', 100, 1, 1_000_000),
    },
    dataDir,
    realtime: {
      redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
      redisConnectTimeoutMs: r.int('REDIS_CONNECT_TIMEOUT_MS', 10_000, 100, 600_000),
      eventLogRetentionDays: r.int('EVENT_LOG_RETENTION_DAYS', 30, 0, 3650),
    },
    monitor: {
      rpcUrls,
      alchemyApiKey,
      devnetSpawn: r.bool('DEVNET_ENABLED', devnetRpcUrl === undefined && !otherChainConfigured),
      devnetRpcUrl,
      devnetPort: r.int('DEVNET_PORT', 8545, 1, 65535),
      devnetBlockTimeSeconds: r.int('DEVNET_BLOCK_TIME', 2, 0, 3600),
      pollIntervalMs: r.int('MONITOR_POLL_INTERVAL_MS', 2000, 50, 600_000),
      stallTimeoutMs: r.int('MONITOR_STALL_TIMEOUT_MS', 30_000, 500, 3_600_000),
      windowSize: r.int('MONITOR_WINDOW_SIZE', 128, 8, 10_000),
      backfillBatchSize: r.int('MONITOR_BACKFILL_BATCH', 100, 1, 1000),
    },
    alerts: {
      enabled: r.bool('ALERTS_ENABLED', true),
      binanceWsUrl: r.url('BINANCE_WS_URL', ['ws:', 'wss:']) ?? 'wss://stream.binance.com:9443',
      symbols: symbols.map((s) => s.toUpperCase()),
      priceStaleSeconds: r.int('PRICE_STALE_SECONDS', 60, 1, 86_400),
      defaultCooldownSeconds: r.int('ALERT_DEFAULT_COOLDOWN_SECONDS', 0, 0, 30 * 86_400),
      coalesceMs: r.int('ALERT_COALESCE_MS', 1000, 0, 60_000),
      priceStreamIntervalMs: r.int('PRICE_STREAM_INTERVAL_MS', 1000, 100, 60_000),
    },
    smtp: {
      host: r.optional('SMTP_HOST'),
      port: r.int('SMTP_PORT', 587, 1, 65535),
      secure: r.bool('SMTP_SECURE', false),
      user: smtpUser,
      password: smtpPassword,
      from: r.string('SMTP_FROM', 'Crypto Deposit Monitor <alerts@localhost>'),
      retryBaseMs: r.int('SMTP_RETRY_BASE_MS', 5000, 10, 3_600_000),
      maxAttempts: r.int('SMTP_MAX_ATTEMPTS', 8, 1, 100),
    },
    webhooks: {
      retryScheduleMs: r.durations('WEBHOOK_RETRY_SCHEDULE', DEFAULT_WEBHOOK_RETRY_SCHEDULE),
      timeoutMs: r.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
      allowPrivateUrls: r.bool('WEBHOOK_ALLOW_PRIVATE_URLS', false),
      maxEndpointsPerUser: r.int('WEBHOOK_MAX_ENDPOINTS_PER_USER', 10, 1, 1000),
      endpointConcurrency: r.int('WEBHOOK_ENDPOINT_CONCURRENCY', 8, 1, 256),
      secretOverlapSeconds: r.int('WEBHOOK_SECRET_OVERLAP_SECONDS', 86_400, 0, 30 * 86_400),
      pollIntervalMs: r.int('WEBHOOK_POLL_INTERVAL_MS', 1000, 10, 60_000),
      retentionDays: r.int('WEBHOOK_RETENTION_DAYS', 30, 0, 3650),
    },
    observability: {
      logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
      logFormat: r.oneOf(
        'LOG_FORMAT',
        ['json', 'pretty'] as const,
        nodeEnv === 'development' ? 'pretty' : 'json',
      ),
      metricsToken,
      metricsPort,
    },
  };
  // A message's earlier successes must outlive any schedule that can still fail after them: an
  // endpoint is disabled when a message fails its schedule with no success since it started.
  const { retentionDays, retryScheduleMs } = config.webhooks;
  const longestSpanMs = retryScheduleMs.reduce((sum, ms) => sum + ms, 0) * 1.1; // with the ±10 % jitter
  const minimumDays = Math.ceil(longestSpanMs / 86_400_000 + 1);
  if (retentionDays > 0 && retentionDays < minimumDays) {
    const span =
      longestSpanMs < 3_600_000
        ? `${Math.ceil(longestSpanMs / 60_000)} min`
        : `${(longestSpanMs / 3_600_000).toFixed(1)} h`;
    r.problems.push(
      `WEBHOOK_RETENTION_DAYS must be 0 (keep) or at least ${minimumDays}: a day more than the longest retry schedule (WEBHOOK_RETRY_SCHEDULE, ${span} with jitter; got ${retentionDays})`,
    );
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
