/**
 * `npm run migration:run` / `npm run migration:revert`: the same migrations the service runs at
 * boot, against DATABASE_URL (or the embedded database when it is unset).
 */
import 'reflect-metadata';

import { ConfigError, loadConfig } from '../config/config.js';
import { loadDotEnv } from '../config/dotenv.js';
import { createDataSource } from './data-source.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { revertLastMigrationLocked, runMigrationsLocked } from './migrate.js';

async function main(command: string | undefined): Promise<void> {
  if (command !== 'run' && command !== 'revert') throw new Error('usage: migrate.cli.js run|revert');
  loadDotEnv();
  const config = loadConfig();
  const embedded =
    config.database.url === undefined
      ? await startEmbeddedPostgres({ dir: config.database.embeddedDir, port: config.database.embeddedPort })
      : undefined;
  const dataSource = createDataSource(config.database.url ?? embedded!.url, 2);
  try {
    await dataSource.initialize();
    if (command === 'run') {
      const applied = await runMigrationsLocked(dataSource);
      console.log(applied.length === 0 ? 'No pending migrations.' : `Applied: ${applied.join(', ')}`);
    } else {
      await revertLastMigrationLocked(dataSource);
      console.log('Reverted the last migration.');
    }
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exitCode = 1;
});
