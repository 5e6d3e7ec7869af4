import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';

import { TooManyRequestsException } from './too-many-requests.exception.js';

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/**
 * Every error leaves as JSON `{ statusCode, error, message }`. Client mistakes that Express raises
 * before Nest sees the request (bad JSON, oversized body) become 4xx; anything unexpected is logged
 * and answered with a bare 500 that leaks nothing.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.describe(exception);
    if (response.headersSent) return;
    if (exception instanceof TooManyRequestsException) {
      response.setHeader('Retry-After', String(exception.retryAfterSeconds));
    }
    response.status(status).json(body);
  }

  private describe(exception: unknown): { status: number; body: object } {
    if (exception instanceof HttpException) {
      const payload = exception.getResponse();
      const status = exception.getStatus();
      if (status === (HttpStatus.PAYLOAD_TOO_LARGE as number)) {
        return this.client(status, 'Payload Too Large', 'body is larger than the server accepts');
      }
      return {
        status,
        body: typeof payload === 'string' ? { statusCode: status, message: payload } : payload,
      };
    }
    const parserError = exception as BodyParserError;
    if (parserError.type === 'entity.parse.failed') {
      return this.client(HttpStatus.BAD_REQUEST, 'Bad Request', 'body must be valid JSON');
    }
    if (parserError.type === 'entity.too.large') {
      return this.client(
        HttpStatus.PAYLOAD_TOO_LARGE,
        'Payload Too Large',
        `body must be at most ${parserError.limit ?? 'the configured'} bytes`,
      );
    }
    if (typeof parserError.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
      return this.client(parserError.status, 'Bad Request', (exception as Error).message);
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return this.client(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal Server Error', 'Internal server error');
  }

  private client(status: number, error: string, message: string): { status: number; body: object } {
    return { status, body: { statusCode: status, error, message } };
  }
}
