import { Writable } from 'node:stream';

import { pino } from 'pino';
import type { Options } from 'pino-http';

import { loadConfig } from '../config/config.js';
import { loggerParams } from './logging.js';
import { redactUrl, Redactor } from './redact.js';

const ALCHEMY_KEY = 'alch_0123456789abcdefABCDEF01234';
const JWT_SECRET = 'jwt-secret-jwt-secret-jwt-secret-0123456789';
const SMTP_PASSWORD = 'smtp-pass-Xy9!';
const METRICS_TOKEN = 'metrics-token-0123456789';

/** A pino logger built from the service's own options, writing into `lines`. */
function capture(env: Record<string, string> = {}) {
  const config = loadConfig({
    NODE_ENV: 'production',
    JWT_SECRET,
    ALCHEMY_API_KEY: ALCHEMY_KEY,
    SMTP_USER: 'mailer@example.com',
    SMTP_PASSWORD,
    METRICS_TOKEN,
    RPC_URL_MAINNET: 'wss://rpcuser:rpcpass123@node.example/ws?apikey=qwerty123456',
    ...env,
  });
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const options = loggerParams(config).pinoHttp as Options;
  return { logger: pino(options, stream), lines, text: () => JSON.stringify(lines) };
}

describe('logging', () => {
  it('writes JSON lines with level, time, msg and context in production', () => {
    const { logger, lines } = capture();
    logger.info({ context: 'ChainFollower:devnet' }, 'Resuming after block 12');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: 'Resuming after block 12',
      context: 'ChainFollower:devnet',
      network: 'devnet',
    });
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
  });

  it('never writes a configured secret, an RPC key or credentials, a bearer token or a password field', () => {
    const { logger, text } = capture();
    logger.warn(`fetch failed: https://eth-mainnet.g.alchemy.com/v2/${ALCHEMY_KEY}`);
    logger.warn('socket closed: wss://rpcuser:rpcpass123@node.example/ws?apikey=qwerty123456');
    logger.warn('node at https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef is down');
    logger.error({ err: new Error(`login with ${SMTP_PASSWORD} refused`) }, 'smtp');
    logger.info(
      { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, password: 'hunter2hunter2' },
      'request',
    );
    logger.info(
      { context: 'Webhooks', webhook: { secret: 'whsec_abcdef123456', url: 'https://x.example/h' } },
      'ok',
    );
    logger.info(`jwt ${JWT_SECRET} and Authorization: Bearer abc.def.ghi and token=s3cr3tvalue`);
    const out = text();
    for (const secret of [
      ALCHEMY_KEY,
      'rpcpass123',
      'rpcuser',
      'qwerty123456',
      '0123456789abcdef0123456789abcdef',
      SMTP_PASSWORD,
      METRICS_TOKEN,
      'hunter2hunter2',
      'whsec_abcdef123456',
      JWT_SECRET,
      'abc.def.ghi',
      's3cr3tvalue',
    ]) {
      expect(out).not.toContain(secret);
    }
    // What is not secret stays readable.
    expect(out).toContain('https://eth-mainnet.g.alchemy.com/v2/[redacted]');
    expect(out).toContain('@node.example/ws?apikey=[redacted]');
    expect(out).toContain('login with [redacted] refused');
    expect(out).toContain('https://x.example/h');
  });

  it('keeps addresses and hashes in URLs and paths', () => {
    const hash = `0x${'ab'.repeat(32)}`;
    expect(redactUrl(`https://explorer.example/tx/${hash}`)).toBe(`https://explorer.example/tx/${hash}`);
    expect(new Redactor([]).requestUrl(`/ws/?EIO=4&token=abc.def&wallet_address=0x${'12'.repeat(20)}`)).toBe(
      `/ws/?EIO=4&token=[redacted]&wallet_address=0x${'12'.repeat(20)}`,
    );
  });

  it('hides database credentials in URLs without blanking out words like "postgres" everywhere', () => {
    const { logger, text } = capture({
      DATABASE_URL: 'postgres://postgres:postgres@db:5432/deposit_monitor',
    });
    logger.info('events cross processes through postgres');
    logger.error('cannot reach postgres://postgres:postgres@db:5432/deposit_monitor');
    expect(text()).toContain('events cross processes through postgres');
    expect(text()).toContain('cannot reach postgres://[redacted]@db:5432/deposit_monitor');
  });

  it('is silent at LOG_LEVEL=silent', () => {
    const { logger, lines } = capture({ LOG_LEVEL: 'silent' });
    logger.error('nobody hears this');
    expect(lines).toHaveLength(0);
  });
});
