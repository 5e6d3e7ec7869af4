import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * CORS for the gateway from `CORS_ORIGINS` (never `*`). A request without an Origin (a server-side
 * client) or from the server's own host is always allowed; a browser on another origin only when
 * listed. Applied to the HTTP long-polling transport (headers) and to every handshake, WebSocket
 * upgrades included (`allowRequest`), since browsers do not apply CORS to WebSockets.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.allowed = new Set(origins.map((o) => o.replace(/\/$/, '')));
  }

  allows(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (this.allowed.has(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false;
    }
  }

  /** engine.io middleware: CORS headers for allowed origins; answers preflights. */
  readonly middleware = (
    req: IncomingMessage,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void => {
    const origin = req.headers.origin;
    if (origin !== undefined && this.allows(req)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
      if (req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
        const headers = req.headers['access-control-request-headers'];
        if (headers) res.setHeader('Access-Control-Allow-Headers', headers);
        res.writeHead(204);
        res.end();
        return;
      }
    }
    next();
  };
}
