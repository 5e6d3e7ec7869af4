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
});
