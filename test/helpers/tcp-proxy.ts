/**
 * A TCP proxy on 127.0.0.1 in front of a node, to cut the connection under a client and restore it.
 *
 * - `cut()` destroys every open connection and refuses new ones until `restore()`.
 * - `cut({ only: 'websocket' })` does the same to WebSocket connections only (recognised by the
 *   `Upgrade: websocket` request header); plain HTTP keeps passing, so a client can be seen to
 *   fall back to polling over HTTP.
 * - `delayAnswers('http', ms)` holds every answer on HTTP connections for `ms` before passing it
 *   on (requests go through at once): the node answers as of the request, the client hears late.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ConnectionKind = 'websocket' | 'http';

export interface TcpProxy {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Open client connections by kind (for assertions). */
  connections(kind?: ConnectionKind): number;
  cut(options?: { only?: ConnectionKind }): void;
  delayAnswers(kind: ConnectionKind, ms: number): void;
  restore(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  kind: ConnectionKind | null;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let refused: ConnectionKind | 'all' | null = null;
  const answerDelayMs: Record<ConnectionKind, number> = { websocket: 0, http: 0 };

  const isRefused = (kind: ConnectionKind): boolean => refused === 'all' || refused === kind;
  const destroy = (pair: Pair): void => {
    pair.client.destroy();
    pair.upstream.destroy();
    pairs.delete(pair);
  };

  const server: Server = createServer((client) => {
    if (refused === 'all') {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: target.host ?? '127.0.0.1', port: target.port });
    const pair: Pair = { client, upstream, kind: null };
    pairs.add(pair);
    client.on('error', () => destroy(pair));
    upstream.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    upstream.on('close', () => destroy(pair));
    // Classify on the first bytes (the request head), then just pipe.
    client.once('data', (head: Buffer) => {
      pair.kind = /\r\nupgrade:\s*websocket/i.test(head.toString('latin1')) ? 'websocket' : 'http';
      if (isRefused(pair.kind)) {
        destroy(pair);
        return;
      }
      upstream.write(head);
      client.pipe(upstream);
      const kind = pair.kind;
      // Answers keep their order when the delay changes: none is released before an earlier one.
      let releaseAt = 0;
      let held = 0;
      upstream.on('data', (chunk: Buffer) => {
        if (answerDelayMs[kind] === 0 && held === 0) {
          client.write(chunk);
          return;
        }
        releaseAt = Math.max(releaseAt, Date.now() + answerDelayMs[kind]);
        held++;
        setTimeout(() => {
          held--;
          if (client.writable) client.write(chunk);
        }, releaseAt - Date.now());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  return {
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    connections: (kind) => [...pairs].filter((p) => kind === undefined || p.kind === kind).length,
    cut(options = {}) {
      refused = options.only ?? 'all';
      for (const pair of [...pairs]) {
        if (refused === 'all' || pair.kind === refused) destroy(pair);
      }
    },
    delayAnswers(kind, ms) {
      answerDelayMs[kind] = ms;
    },
    restore() {
      refused = null;
    },
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
