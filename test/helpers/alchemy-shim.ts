/**
 * Stands in for Alchemy's endpoint in front of a local anvil, on one 127.0.0.1 port like Alchemy's
 * own (HTTP and WebSocket share it). alchemy-sdk's socket (the `websocket` package's w3c client)
 * asks for the subprotocol `alchemy-sdk-<version>` and fails the handshake unless the server
 * echoes it — anvil does not, hence this shim. JSON-RPC frames are forwarded unchanged both ways;
 * HTTP POSTs are forwarded to anvil's HTTP endpoint.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';

import WebSocket, { WebSocketServer } from 'ws';

export interface AlchemyShim {
  readonly port: number;
  readonly httpUrl: string;
  readonly wsUrl: string;
  /** Subprotocols the SDK asked for, in connection order. */
  readonly protocols: string[];
  /** Open SDK sockets. */
  connections(): number;
  /** Drops every SDK socket and refuses new ones until `restore()`; HTTP keeps passing. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

const readBody = (request: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });

export async function startAlchemyShim(target: { httpUrl: string; wsUrl: string }): Promise<AlchemyShim> {
  const protocols: string[] = [];
  const sockets = new Set<WebSocket>();
  let refusing = false;

  const server: Server = createServer((request, response) => {
    if (request.method !== 'POST') {
      response.writeHead(405).end();
      return;
    }
    readBody(request)
      .then((body) =>
        fetch(target.httpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
      )
      .then(async (upstream) => {
        response.writeHead(upstream.status, { 'content-type': 'application/json' });
        response.end(Buffer.from(await upstream.arrayBuffer()));
      })
      .catch(() => {
        if (!response.headersSent) response.writeHead(502);
        response.end();
      });
  });

  const wss = new WebSocketServer({
    server,
    handleProtocols: (offered) => {
      const protocol = [...offered].find((p) => p.startsWith('alchemy-sdk-'));
      return protocol ?? false;
    },
    verifyClient: (_info, done) => done(!refusing, 503),
  });
  wss.on('connection', (client: WebSocket) => {
    protocols.push(client.protocol);
    sockets.add(client);
    const upstream = new WebSocket(target.wsUrl, { perMessageDeflate: false });
    const queued: { data: WebSocket.RawData; binary: boolean }[] = [];
    const end = (): void => {
      sockets.delete(client);
      client.terminate();
      upstream.terminate();
    };
    upstream.on('open', () => {
      for (const frame of queued.splice(0)) upstream.send(frame.data, { binary: frame.binary });
    });
    // Text stays text: the SDK's client ignores binary frames.
    client.on('message', (data: WebSocket.RawData, binary: boolean) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(data, { binary });
      else queued.push({ data, binary });
    });
    upstream.on('message', (data: WebSocket.RawData, binary: boolean) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
    });
    client.on('close', end);
    client.on('error', end);
    upstream.on('close', end);
    upstream.on('error', end);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    protocols,
    connections: () => sockets.size,
    cut() {
      refusing = true;
      for (const socket of [...sockets]) socket.terminate();
    },
    restore() {
      refusing = false;
    },
    async close() {
      for (const socket of [...sockets]) socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
