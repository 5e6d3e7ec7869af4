// Jest setup: application logs stay out of the test output. Nest's static Logger (used by code the
// tests build directly: chain clients, followers) goes to a per-test buffer that test/environment.js
// prints when the test fails; apps from startTestApp log through pino at LOG_LEVEL=silent. Set
// LOG_LEVEL (e.g. LOG_LEVEL=debug npm test -- …) to see everything as it happens.
import { Logger, type LoggerService } from '@nestjs/common';

const KEPT = 300;

class BufferedLogger implements LoggerService {
  log(message: unknown, ...params: unknown[]): void {
    this.keep('LOG', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.keep('WARN', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.keep('ERROR', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.keep('DEBUG', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.keep('VERBOSE', message, params);
  }

  private keep(level: string, message: unknown, params: unknown[]): void {
    const context = typeof params[params.length - 1] === 'string' ? `[${String(params.pop())}] ` : '';
    const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
    const lines = ((globalThis as { __TEST_LOGS__?: string[] }).__TEST_LOGS__ ??= []);
    lines.push(`${new Date().toISOString()} ${level} ${context}${text}`);
    if (lines.length > KEPT) lines.splice(0, lines.length - KEPT);
  }
}

if (process.env.LOG_LEVEL === undefined) Logger.overrideLogger(new BufferedLogger());
