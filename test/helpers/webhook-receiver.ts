import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the receiver does with one request. */
export type ReceiverAction =
  | { status: number; delayMs?: number; headers?: Record<string, string>; body?: string }
  /** Close the connection without answering. */
  | { destroy: true; delayMs?: number }
  /** Never answer (until the receiver closes). */
  | { hang: true };

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  receivedAt: number;
  path: string;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: ReceivedWebhook[];
  /** Decides per request (n counts from 0 over every request this receiver got). */
  respond: (request: ReceivedWebhook, n: number) => ReceiverAction;
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 that records every POST and answers as `respond` says (default 200). */
export async function startWebhookReceiver(
  respond: WebhookReceiver['respond'] = () => ({ status: 200 }),
): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<http.ServerResponse>();
  const receiver = { respond } as WebhookReceiver;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record: ReceivedWebhook = {
        headers: req.headers as Record<string, string>,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
        path: req.url ?? '/',
      };
      const n = received.length;
      received.push(record);
      const action = receiver.respond(record, n);
      if ('hang' in action) {
        hanging.add(res);
        return;
      }
      setTimeout(() => {
        if ('destroy' in action) {
          req.socket.destroy();
          return;
        }
        res.writeHead(action.status, action.headers);
        res.end(action.body ?? '');
      }, action.delayMs ?? 0);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
