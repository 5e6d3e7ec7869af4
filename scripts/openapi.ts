/**
 * Writes the service's OpenAPI document (what /docs-json serves) to a file, without a database,
 * a chain or a listening port: the Nest app is created in preview mode (modules and routes are
 * scanned, no provider is instantiated). The web app's API types are generated from it.
 *
 *   node dist/scripts/openapi.js <out.json>
 */
import 'reflect-metadata';

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { AppModule } from '../src/app.module.js';
import { createOpenApiDocument } from '../src/app.setup.js';
import { loadConfig } from '../src/config/config.js';

const out = process.argv[2];
if (out === undefined) {
  console.error('usage: node dist/scripts/openapi.js <out.json>');
  process.exit(2);
}

// Every module of an API process, alerts included; the values are never used to connect.
const config = loadConfig({ APP_ROLE: 'api', ALERTS_ENABLED: 'true', DEVNET_ENABLED: 'false' });
const app = await NestFactory.create<NestExpressApplication>(
  AppModule.register({ config, databaseUrl: 'postgres://unused@127.0.0.1:1/unused' }),
  { preview: true, logger: false, abortOnError: false },
);
const document = createOpenApiDocument(app);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
await app.close();
console.log(`OpenAPI document: ${Object.keys(document.paths).length} paths written to ${out}`);
