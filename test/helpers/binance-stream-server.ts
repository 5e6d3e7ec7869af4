import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { WebSocket, WebSocketServer } from 'ws';

/** One client connection as the exchange saw it. */
export interface StreamConnection {
  readonly socket: WebSocket;
  /** Requested streams, e.g. ["btcusdt@miniTicker"]. */
  readonly streams: string[];
  readonly openedAt: number;
  /** Every frame the client sent (pongs and messages), with when it arrived. */
  readonly inbound: Array<{ at: number; kind: 'pong' | 'ping' | 'message'; data: string }>;
}

/**
 * A local WebSocket server speaking Binance's combined market-stream protocol:
 * `/stream?streams=<symbol>@<stream>/…`, `{"stream", "data"}` envelopes (miniTicker and trade
 * payloads), protocol pings that expect a pong with the same payload, the `serverShutdown` event,
 * abrupt drops, and refusing connections while "down". It listens on 127.0.0.1 only.
 */
export class BinanceStreamServer {
  readonly connections: StreamConnection[] = [];
  /** When each upgrade request arrived (refused ones included). */
  readonly attempts: number[] = [];
  /** While true, upgrade requests are answered 503 (the exchange is unreachable). */
  refuse = false;
  /** While true, each accepted connection is cut right away, before any data. */
  dropOnConnect = false;

  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  private constructor(
    private readonly http: Server,
    readonly url: string,
  ) {
    http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.onUpgrade(request, socket, head),
    );
  }

  static async start(): Promise<BinanceStreamServer> {
    const http = createServer((_request, response) => response.writeHead(426).end());
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    return new BinanceStreamServer(http, `ws://127.0.0.1:${port}`);
  }

  get open(): StreamConnection[] {
    return this.connections.filter((c) => c.socket.readyState === WebSocket.OPEN);
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.attempts.push(Date.now());
    const url = new URL(request.url ?? '/', 'http://localhost');
    const streams = (url.searchParams.get('streams') ?? '').split('/').filter((s) => s !== '');
    if (this.refuse || url.pathname !== '/stream' || streams.length === 0) {
      socket.end(
        `HTTP/1.1 ${this.refuse ? '503 Service Unavailable' : '404 Not Found'}\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const connection: StreamConnection = { socket: ws, streams, openedAt: Date.now(), inbound: [] };
      this.connections.push(connection);
      ws.on('pong', (data) =>
        connection.inbound.push({ at: Date.now(), kind: 'pong', data: data.toString() }),
      );
      ws.on('ping', (data) =>
        connection.inbound.push({ at: Date.now(), kind: 'ping', data: data.toString() }),
      );
      ws.on('message', (data: Buffer) =>
        connection.inbound.push({ at: Date.now(), kind: 'message', data: data.toString() }),
      );
      ws.on('error', () => undefined);
      if (this.dropOnConnect) ws.terminate();
    });
  }

  /**
   * Sends a price to every open connection subscribed to the symbol, as the exchange would
   * (`@miniTicker`: last price `c`, 24 h open `o`, event time `E`; `@trade`: price `p`, trade
   * time `T`). Returns how many connections it went to.
   */
  sendPrice(symbol: string, price: string, eventTimeMs = Date.now(), open = price): number {
    let sent = 0;
    for (const connection of this.open) {
      for (const stream of connection.streams) {
        const [name, kind] = stream.split('@');
        if (name !== symbol.toLowerCase()) continue;
        const s = symbol.toUpperCase();
        const data =
          kind === 'trade'
            ? { e: 'trade', E: eventTimeMs, s, t: 1, p: price, q: '0.01', T: eventTimeMs, m: false, M: true }
            : {
                e: '24hrMiniTicker',
                E: eventTimeMs,
                s,
                c: price,
                o: open,
                h: price,
                l: price,
                v: '1',
                q: price,
              };
        connection.socket.send(JSON.stringify({ stream, data }));
        sent += 1;
      }
    }
    return sent;
  }

  /** Any frame, as is, to every open connection. */
  sendRaw(text: string): void {
    for (const connection of this.open) connection.socket.send(text);
  }

  /** A protocol ping; resolves with the payload of the pong the client answers with. */
  ping(payload: string, connection = this.open[0]): Promise<string> {
    if (!connection) return Promise.reject(new Error('no open connection'));
    return new Promise((resolve) => {
      connection.socket.once('pong', (data: Buffer) => resolve(data.toString()));
      connection.socket.ping(payload);
    });
  }

  /** The exchange's notice that it is about to close the connection for maintenance. */
  serverShutdown(): void {
    this.sendRaw(JSON.stringify({ e: 'serverShutdown', E: Date.now() }));
  }

  /** Cuts every connection without a close frame (a network failure, from the client's view). */
  dropAll(): void {
    for (const connection of this.open) connection.socket.terminate();
  }

  async waitForConnections(count: number, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => this.open.length > 0 && this.connections.length >= count,
      timeoutMs,
      `${count} connections`,
    );
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** Polls until `condition` holds or the deadline passes. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
