import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Params } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';

import type { AppConfig } from '../config/config.js';
import { Redactor } from './redact.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** Probes and scrapes would be most of the request log: not logged (a 503 says why in its body). */
const QUIET_PATHS = /^\/(health(\/|$|\?)|metrics(\/|$|\?))/;

/**
 * Per-network components name their logger `<Component>:<network key>` (ChainFollower:sepolia,
 * Leadership:devnet, JsonRpcChainClient:mainnet): the key also goes out as a `network` field, so
 * one network's lines can be filtered without parsing the context.
 */
function withNetwork(first: unknown): void {
  if (first === null || typeof first !== 'object') return;
  const fields = first as { context?: unknown; network?: unknown };
  if (typeof fields.context !== 'string' || fields.network !== undefined) return;
  const network = /^[A-Za-z]+:([a-z0-9_-]+)$/.exec(fields.context)?.[1];
  if (network !== undefined) fields.network = network;
}

/** Every secret the configuration holds: hidden wherever it would appear in a log line. */
export function configuredSecrets(config: AppConfig): Array<string | undefined> {
  // Node providers put API keys in the userinfo. Not DATABASE_URL's or REDIS_URL's: their user and
  // password are often words like "postgres" that would be blanked out of every line (those URLs
  // lose their userinfo wherever they are logged, like any URL).
  const urls = [...Object.values(config.monitor.rpcUrls), config.monitor.devnetRpcUrl];
  const urlCredentials = urls.flatMap((url) => {
    const parsed = url !== undefined && URL.canParse(url) ? new URL(url) : undefined;
    // Percent-decoded too: a password is written encoded in the URL, and may be logged either way.
    return parsed
      ? [parsed.password, parsed.username].flatMap((s) => (s === '' ? [] : [s, decodeURIComponent(s)]))
      : [];
  });
  return [
    config.auth.jwtSecret,
    config.smtp.user,
    config.smtp.password,
    config.monitor.alchemyApiKey,
    config.observability.metricsToken,
    ...urlCredentials,
  ];
}

/**
 * nestjs-pino / pino-http options: JSON lines (`level`, `time`, `msg`, `context`, `reqId` inside a
 * request) or pino-pretty lines, at LOG_LEVEL, with every message and value passed through the
 * Redactor and request ids taken from `X-Request-Id` (or made) and sent back in that header.
 */
export function loggerParams(config: AppConfig): Params {
  const { logLevel, logFormat } = config.observability;
  const redactor = new Redactor(configuredSecrets(config));
  return {
    pinoHttp: {
      level: logLevel,
      ...(logFormat === 'pretty'
        ? {
            transport: {
              target: 'pino-pretty',
              options: {
                singleLine: true,
                translateTime: 'SYS:HH:MM:ss.l',
                ignore: 'pid,hostname,context',
                messageFormat: '{if context}[{context}] {end}{msg}',
              },
            },
          }
        : {}),
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', '*.password'],
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((arg) => redactor.value(arg));
          withNetwork(redacted[0]);
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customAttributeKeys: { reqId: 'request_id' },
      quietReqLogger: true,
      quietResLogger: true,
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          url: redactor.requestUrl(req.url),
        }),
        res: (res: { statusCode: number }) => ({ status: res.statusCode }),
      },
      autoLogging: { ignore: (req) => QUIET_PATHS.test(req.url ?? '') },
      customLogLevel: (_req, res, error) =>
        error !== undefined || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    },
  };
}
