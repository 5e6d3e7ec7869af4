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
});
