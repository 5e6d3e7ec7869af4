import { HttpException, HttpStatus } from '@nestjs/common';

/** 429 with a `Retry-After` header (set by AllExceptionsFilter) saying when to try again. */
export class TooManyRequestsException extends HttpException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      { statusCode: HttpStatus.TOO_MANY_REQUESTS, error: 'Too Many Requests', message },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
