import 'reflect-metadata';

import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';

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
    // Logs are buffered until pino (LoggingModule) is in place, then all go through it.
    const { metricsPort } = config.observability;
    const http =
      config.role === 'monitor'
        ? undefined
        : configureHttpApp(
            await NestFactory.create<NestExpressApplication>(module, { bodyParser: false, bufferLogs: true }),
            config,
          );
    // A monitor process has no API; with METRICS_PORT it serves /metrics and /health/* there.
    const opsOnly =
      config.role === 'monitor' && metricsPort !== undefined
        ? await NestFactory.create<NestExpressApplication>(module, { bufferLogs: true })
        : undefined;
    const app = http ?? opsOnly ?? (await NestFactory.createApplicationContext(module, { bufferLogs: true }));
    app.useLogger(app.get(PinoLogger));

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
    } else if (opsOnly) {
      await opsOnly.listen(metricsPort!, config.http.host);
      logger.log(`Monitor running; /metrics and /health/* on http://${config.http.host}:${metricsPort}`);
    } else {
      await app.init();
      logger.log('Monitor running (no HTTP; set METRICS_PORT for /metrics and /health/*)');
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
