/**
 * The realtime bench's server child: the application (`AppModule`, role from APP_ROLE) on
 * HTTP, like `node dist/src/main.js`. In role `all` it also commits events on request (IPC), as
 * the monitor inside that process does: append in a transaction, publish on the EventBus after
 * commit — so the gateway delivers events committed by its own process.
 */
import 'reflect-metadata';

import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';

import { AppModule } from '../src/app.module.js';
import { configureHttpApp } from '../src/app.setup.js';
import { loadConfig } from '../src/config/config.js';
import { EventBus } from '../src/events/event-bus.js';
import { EventLogRepository } from '../src/events/event-log.repository.js';
import { type CommitRequest, commitRound } from './realtime-events.js';

const config = loadConfig(process.env);
const app = configureHttpApp(
  await NestFactory.create<NestExpressApplication>(
    AppModule.register({ config, databaseUrl: config.database.url! }),
    { bodyParser: false, logger: ['error', 'warn'] },
  ),
  config,
);
await app.listen(config.http.port, config.http.host);

const dataSource = app.get(DataSource);
const log = app.get(EventLogRepository);
const bus = app.get(EventBus);

process.on('message', (request: CommitRequest) => {
  commitRound(request, dataSource, log, bus).then(
    (reply) => process.send!(reply),
    (error: Error) => process.send!({ error: error.message }),
  );
});
const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
