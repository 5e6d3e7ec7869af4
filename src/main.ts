import 'reflect-metadata';

import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { AppModule } from './app.module.js';
import { configureHttpApp } from './app.setup.js';
import { ConfigError, loadConfig } from './config/config.js';
import { loadDotEnv } from './config/dotenv.js';
import { type EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres.js';

const logger = new Logger('Main');

async function bootstrap(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();

  let embedded: EmbeddedDatabase | undefined;
  if (config.database.url === undefined) {
    logger.log(`DATABASE_URL is unset: starting the embedded PostgreSQL in ${config.database.embeddedDir}`);
    embedded = await startEmbeddedPostgres({
      dir: config.database.embeddedDir,
      port: config.database.embeddedPort,
      log: (message) => logger.warn(message),
    });
  }
  const stopEmbedded = async () => {
    await embedded?.stop();
    embedded = undefined;
  };

  try {
    const module = AppModule.register({ config, databaseUrl: config.database.url ?? embedded!.url });
    const http =
      config.role === 'monitor'
        ? undefined
        : configureHttpApp(
            await NestFactory.create<NestExpressApplication>(module, { bodyParser: false }),
            config,
          );
    const app = http ?? (await NestFactory.createApplicationContext(module));

    // On SIGINT/SIGTERM: close the app (followers, sockets, pool), then the embedded database.
    let closing = false;
    const shutdown = (signal: string) => {
      if (closing) return;
      closing = true;
      logger.log(`${signal} received: shutting down`);
      const force = setTimeout(() => process.exit(1), 15_000);
      force.unref();
      app
        .close()
        .then(stopEmbedded)
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          logger.error(error);
          process.exit(1);
        });
    };
    // embedded-postgres (through async-exit-hook) installs its own SIGINT/SIGTERM handlers that stop
    // the database at once and exit, racing the orderly close above: this process owns the order.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
      process.once(signal, () => shutdown(signal));
    }

    if (http) {
      await http.listen(config.http.port, config.http.host);
      logger.log(
        `Listening on http://${config.http.host}:${config.http.port} (docs at /docs, role ${config.role})`,
      );
    } else {
      await app.init();
      logger.log('Monitor running (no HTTP)');
    }
  } catch (error) {
    await stopEmbedded();
    throw error;
  }
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  process.exit(1);
});
