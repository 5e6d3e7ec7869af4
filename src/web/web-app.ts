import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { Logger } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

/** The web app's own routes: `/` and everything under `/app/` (no API path starts with either). */
export const isWebAppRoute = (path: string): boolean =>
  path === '/' || path === '/app' || path.startsWith('/app/');

/**
 * Serves the built web app (web/, `npm run build:web`) from `dir`: its files (hashed bundles under
 * /assets/) as static files, and index.html for every app route, so a reload or a deep link on
 * /app/… gets the app. Everything else falls through to the API: an unknown API path is still the
 * API's JSON 404, and /docs, /docs-json, /ws and /health are never shadowed.
 */
export function serveWebApp(app: NestExpressApplication, dir: string): void {
  const root = resolve(dir);
  const index = resolve(root, 'index.html');
  if (!existsSync(index)) {
    new Logger('WebApp').warn(`no web app at ${root} (run npm run build): serving the API only`);
    return;
  }
  app.use((request: Request, response: Response, next: NextFunction) => {
    if ((request.method !== 'GET' && request.method !== 'HEAD') || !isWebAppRoute(request.path)) {
      return next();
    }
    // The shell must be re-read after a deploy; the hashed assets it names may be cached forever.
    response.setHeader('Cache-Control', 'no-cache');
    response.sendFile(index);
  });
  app.useStaticAssets(root, {
    index: false,
    fallthrough: true,
    setHeaders: (response, path) => {
      if (path.includes('/assets/'))
        response.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    },
  });
}
