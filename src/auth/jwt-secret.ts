import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { AppConfig } from '../config/config.js';

/**
 * JWT_SECRET when set; otherwise a secret generated once and kept in the data directory, so the
 * zero-setup start needs no key and tokens survive a restart. Several processes must set
 * JWT_SECRET (or share the data directory).
 */
export function resolveJwtSecret(config: AppConfig): string {
  if (config.auth.jwtSecret !== undefined) return config.auth.jwtSecret;
  const file = path.resolve(config.dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}
