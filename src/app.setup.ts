import { type INestApplication, ValidationPipe } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';

import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { InputSafetyPipe } from './common/input-safety.pipe.js';
import type { AppConfig } from './config/config.js';
import { serveWebApp } from './web/web-app.js';

/** Everything an HTTP app needs beyond its modules; shared by main.ts and the e2e tests. */
export function configureHttpApp(app: NestExpressApplication, config: AppConfig): INestApplication {
  app.set('trust proxy', config.http.trustProxy);
  app.use(securityHeaders(config));
  app.useLogger(app.get(Logger));
  app.useBodyParser('json', { limit: config.http.bodyLimit });
  app.useGlobalPipes(
    new InputSafetyPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: false },
    }),
  );
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableCors({ origin: config.http.corsOrigins.length > 0 ? [...config.http.corsOrigins] : false });
  app.disable('x-powered-by');
  serveWebApp(app, config.http.webDir);

  const document = createOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

/** The service's OpenAPI document (served at /docs-json; scripts/openapi.ts writes it for the web app's types). */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Crypto Deposit Monitor')
      .setDescription(
        'Deposits to your wallets on EVM chains, followed from detection to completion (or orphaning by a reorg), ' +
          'and price alerts. JSON is snake_case; amounts and block numbers are decimal strings. ' +
          'Live events: Socket.IO at path /ws (see the README).',
      )
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
}

/**
 * helmet's headers with a Content-Security-Policy the web app at `/` and Swagger UI at `/docs`
 * work under: scripts only from this origin (no inline script), styles from it plus inline ones
 * (chart libraries and Swagger UI set them), images and fonts also as data: URIs, fetch and
 * Socket.IO (`/ws`, ws/wss) to this origin only, never framed. HSTS only on requests that came in
 * over https (directly or, with TRUST_PROXY, as X-Forwarded-Proto says), never on plain http.
 */
export function securityHeaders(config: AppConfig) {
  const headers = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: false,
  });
  const hsts = `max-age=${config.http.hstsMaxAgeSeconds}; includeSubDomains`;
  return (req: Request, res: Response, next: NextFunction) => {
    if (config.http.hstsMaxAgeSeconds > 0 && req.secure) res.setHeader('Strict-Transport-Security', hsts);
    headers(req, res, next);
  };
}
