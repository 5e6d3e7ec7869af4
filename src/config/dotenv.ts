import { existsSync } from 'node:fs';

/** Loads `./.env` into process.env when it exists; variables already set win. Entry points only. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
