import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { DataSource as DataSourceToken } from 'typeorm';

import { AppModule } from '../../src/app.module.js';
import { configureHttpApp } from '../../src/app.setup.js';
import { type AppConfig, loadConfig } from '../../src/config/config.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

export interface TestApp {
  readonly app: NestExpressApplication;
  readonly config: AppConfig;
  readonly database: TestDatabase;
  readonly dataSource: DataSource;
  /** Base URL of the listening server, e.g. http://127.0.0.1:41234 */
  readonly baseUrl: string;
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * The real application on a fresh database, listening on a free port of 127.0.0.1. `env` is what
 * the process environment would hold; the monitor is off unless a test asks for it.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  database?: TestDatabase,
): Promise<TestApp> {
  const db = database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    APP_ROLE: 'api',
    JWT_SECRET: TEST_JWT_SECRET,
    DATABASE_URL: db.url,
    ALERTS_ENABLED: 'false',
    DEVNET_ENABLED: 'false',
    // Suites sign up many accounts from 127.0.0.1; the limits have their own suite (hardening).
    AUTH_RATE_LIMIT_PER_IP: '1000000',
    AUTH_RATE_LIMIT_PER_ACCOUNT: '1000000',
    // Application logs stay out of the test output; LOG_LEVEL=debug npm test … shows them.
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    ...env,
  });
  const module = AppModule.register({ config, databaseUrl: db.url });
  const app = configureHttpApp(
    await NestFactory.create<NestExpressApplication>(module, { bodyParser: false, bufferLogs: true }),
    config,
  ) as NestExpressApplication;
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    config,
    database: db,
    dataSource: app.get(DataSourceToken),
    baseUrl: `http://127.0.0.1:${address.port}`,
    http: () => request(app.getHttpServer()),
    async close() {
      await app.close();
      if (!database) await db.drop();
    },
  };
}

let counter = 0;

/** Registers a user and logs in; returns what a client would hold. */
export async function signUp(
  app: TestApp,
  email = `user${Date.now()}${counter++}@example.com`,
  password = 'correct horse battery',
): Promise<{ id: string; email: string; token: string; auth: { Authorization: string } }> {
  const created = await app.http().post('/users').send({ email, password }).expect(201);
  const login = await app.http().post('/auth/login').send({ email, password }).expect(200);
  const token = login.body.access_token as string;
  return {
    id: created.body.id,
    email: created.body.email,
    token,
    auth: { Authorization: `Bearer ${token}` },
  };
}
