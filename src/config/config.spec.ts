import { ConfigError, loadConfig } from './config.js';

describe(loadConfig.name, () => {
  it('gives the zero-setup defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(3000);
    expect(config.database.url).toBeUndefined();
    expect(config.role).toBe('all');
    expect(config.monitor.devnetSpawn).toBe(true);
    expect(config.alerts.symbols).toEqual(['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'XRPUSDT', 'DOGEUSDT']);
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', APP_ROLE: 'worker', SMTP_USER: 'me' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('DATABASE_URL');
    expect(message).toContain('APP_ROLE');
    expect(message).toContain('SMTP_USER and SMTP_PASSWORD');
  });

  it('reads per-network RPC URLs and stops spawning the devnet when a chain is configured', () => {
    const config = loadConfig({ RPC_URL_SEPOLIA: 'wss://node.example/ws' });
    expect(config.monitor.rpcUrls).toEqual({ sepolia: 'wss://node.example/ws' });
    expect(config.monitor.devnetSpawn).toBe(false);
  });

  it('reads the hardening settings with their defaults, and names a bad one', () => {
    const defaults = loadConfig({});
    expect(defaults.auth).toMatchObject({
      rateLimitPerIp: 20,
      rateLimitPerAccount: 10,
      rateLimitWindowSeconds: 60,
      passwordHashConcurrency: 2,
      passwordHashQueue: 64,
    });
    expect(defaults.limits).toEqual({ walletsPerUser: 100, alertsPerUser: 100 });
    expect(defaults.http.trustProxy).toBe(false);
    expect(defaults.http.hstsMaxAgeSeconds).toBe(15_552_000);
    expect(defaults.realtime.redisConnectTimeoutMs).toBe(10_000);

    expect(loadConfig({ TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'TRUE' }).http.trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).http.trustProxy).toBe('loopback, 10.0.0.0/8');
    expect(() => loadConfig({ TRUST_PROXY: 'proxy;rm -rf' })).toThrow(/TRUST_PROXY must be/);
    expect(() => loadConfig({ AUTH_RATE_LIMIT_PER_IP: '0' })).toThrow(/AUTH_RATE_LIMIT_PER_IP/);
    expect(() => loadConfig({ MAX_WALLETS_PER_USER: 'many' })).toThrow(/MAX_WALLETS_PER_USER/);
    expect(() => loadConfig({ PASSWORD_HASH_CONCURRENCY: '0' })).toThrow(/PASSWORD_HASH_CONCURRENCY/);
    expect(() => loadConfig({ REDIS_CONNECT_TIMEOUT_MS: '5' })).toThrow(/REDIS_CONNECT_TIMEOUT_MS/);
  });

  it('reads the web app directory and the price stream interval, refusing an interval out of range', () => {
    expect(loadConfig({}).http.webDir).toBe('web/dist');
    expect(loadConfig({}).alerts.priceStreamIntervalMs).toBe(1000);
    expect(loadConfig({ WEB_DIR: '/srv/web', PRICE_STREAM_INTERVAL_MS: '250' })).toMatchObject({
      http: { webDir: '/srv/web' },
      alerts: { priceStreamIntervalMs: 250 },
    });
    expect(() => loadConfig({ PRICE_STREAM_INTERVAL_MS: '10' })).toThrow(/PRICE_STREAM_INTERVAL_MS/);
  });

  it('reads ADMIN_EMAILS as a lower-cased list and names a bad entry', () => {
    expect(loadConfig({}).auth.adminEmails).toEqual([]);
    expect(loadConfig({ ADMIN_EMAILS: ' Ops@Example.com, root@example.org ' }).auth.adminEmails).toEqual([
      'ops@example.com',
      'root@example.org',
    ]);
    expect(() => loadConfig({ ADMIN_EMAILS: 'ops@example.com,nobody' })).toThrow(
      /ADMIN_EMAILS has an invalid email "nobody"/,
    );
  });

  it('reads the observability settings: log level and format by environment, metrics token and port', () => {
    expect(loadConfig({}).observability).toEqual({
      logLevel: 'info',
      logFormat: 'pretty',
      metricsToken: undefined,
      metricsPort: undefined,
    });
    expect(loadConfig({ NODE_ENV: 'production' }).observability.logFormat).toBe('json');
    const set = loadConfig({
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      METRICS_TOKEN: 'token-token-token-1',
      METRICS_PORT: '9464',
    }).observability;
    expect(set).toEqual({
      logLevel: 'debug',
      logFormat: 'json',
      metricsToken: 'token-token-token-1',
      metricsPort: 9464,
    });
    let message = '';
    try {
      loadConfig({ LOG_LEVEL: 'loud', LOG_FORMAT: 'xml', METRICS_TOKEN: 'short', METRICS_PORT: '0' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('LOG_LEVEL must be one of');
    expect(message).toContain('LOG_FORMAT must be one of json, pretty');
    expect(message).toContain('METRICS_TOKEN must be at least 16 characters');
    expect(message).toContain('METRICS_PORT must be a whole number');
  });

  it('refuses a short JWT secret', () => {
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
  });

  it('takes REDIS_URL as redis:// or rediss:// and refuses anything else, naming it', () => {
    expect(loadConfig({}).realtime.redisUrl).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'rediss://:secret@cache.example:6380/0' }).realtime.redisUrl).toBe(
      'rediss://:secret@cache.example:6380/0',
    );
    expect(() => loadConfig({ REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(
      /REDIS_URL must use redis: or rediss: \(got "http:"\)/,
    );
    expect(() => loadConfig({ REDIS_URL: 'not a url' })).toThrow(/REDIS_URL must be a URL/);
  });

  it('reads the webhook retry schedule as durations and names a bad one', () => {
    expect(loadConfig({}).webhooks.retryScheduleMs).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '100ms, 2s,1m' }).webhooks.retryScheduleMs).toEqual([
      100, 2000, 60_000,
    ]);
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,soon' })).toThrow(
      /WEBHOOK_RETRY_SCHEDULE must be comma-separated durations .*got "soon"/,
    );
    expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: '8d' })).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_URLS: 'maybe' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_URLS/);
  });

  it('keeps finished webhook messages at least a day longer than the longest retry schedule', () => {
    expect(loadConfig({}).webhooks.retentionDays).toBe(30);
    expect(loadConfig({ WEBHOOK_RETENTION_DAYS: '0' }).webhooks.retentionDays).toBe(0);
    // The default schedule spans 27.6 h, 30.3 h with jitter: at least 3 days.
    expect(loadConfig({ WEBHOOK_RETENTION_DAYS: '3' }).webhooks.retentionDays).toBe(3);
    expect(() => loadConfig({ WEBHOOK_RETENTION_DAYS: '2' })).toThrow(
      /WEBHOOK_RETENTION_DAYS must be 0 \(keep\) or at least 3: .*30\.3 h with jitter; got 2/,
    );
    // A short schedule: a day more than its 68 s.
    expect(
      loadConfig({ WEBHOOK_RETENTION_DAYS: '2', WEBHOOK_RETRY_SCHEDULE: '1s,1m' }).webhooks.retentionDays,
    ).toBe(2);
    expect(() => loadConfig({ WEBHOOK_RETENTION_DAYS: '1', WEBHOOK_RETRY_SCHEDULE: '1s,1m' })).toThrow(
      /at least 2: .*\(WEBHOOK_RETRY_SCHEDULE, 2 min with jitter; got 1\)/,
    );
    expect(() => loadConfig({ WEBHOOK_RETENTION_DAYS: '-1' })).toThrow(
      /WEBHOOK_RETENTION_DAYS must be a whole/,
    );
  });
});
