import { Injectable } from '@nestjs/common';

import { TooManyRequestsException } from '../common/too-many-requests.exception.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { hashPassword, verifyPassword } from './password.js';

/**
 * scrypt runs on libuv's small thread pool (4 threads by default), which file, DNS and zlib work
 * share: a burst of logins would hold every thread and queue the rest behind it. At most
 * `PASSWORD_HASH_CONCURRENCY` hashes run at once; up to `PASSWORD_HASH_QUEUE` more wait in order,
 * and past that a request is answered 429 at once instead of piling up.
 */
@Injectable()
export class PasswordHasher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(@InjectConfig() private readonly config: AppConfig) {}

  hash(password: string): Promise<string> {
    return this.bounded(() => hashPassword(password));
  }

  verify(password: string, stored: string): Promise<boolean> {
    return this.bounded(() => verifyPassword(password, stored));
  }

  private async bounded<T>(work: () => Promise<T>): Promise<T> {
    const { passwordHashConcurrency, passwordHashQueue } = this.config.auth;
    if (this.running >= passwordHashConcurrency) {
      if (this.waiting.length >= passwordHashQueue) {
        throw new TooManyRequestsException('too many logins and sign-ups in progress: retry in a second', 1);
      }
      // The slot is handed over by the finishing hash (running stays the same).
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
