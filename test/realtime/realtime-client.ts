import { io, type Socket } from 'socket.io-client';

import type { SocketEventPayload } from '../../src/realtime/socket-event.js';

export interface Received {
  name: string;
  payload: SocketEventPayload;
}

export interface TestClient {
  socket: Socket;
  /** Every event received, in arrival order. */
  received: Received[];
  ids(name?: string): number[];
  request(event: 'subscribe' | 'unsubscribe', body: unknown): Promise<Record<string, unknown>>;
  close(): void;
}

/** A real socket.io-client on `/ws`, recording every event; resolves once connected. */
export function connectClient(
  baseUrl: string,
  opts: { token?: string; query?: Record<string, string>; reconnection?: boolean } = {},
): Promise<TestClient> {
  const socket = io(baseUrl, {
    path: '/ws',
    transports: ['websocket'],
    auth: opts.token === undefined ? {} : { token: opts.token },
    query: opts.query,
    reconnection: opts.reconnection ?? false,
    reconnectionDelay: 100,
    reconnectionDelayMax: 200,
    forceNew: true,
  });
  const received: Received[] = [];
  socket.onAny((name: string, payload: SocketEventPayload) => received.push({ name, payload }));
  const client: TestClient = {
    socket,
    received,
    ids: (name) =>
      received.filter((r) => name === undefined || r.name === name).map((r) => r.payload.event_id),
    request: (event, body) => socket.timeout(10_000).emitWithAck(event, body),
    close: () => socket.disconnect(),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (error) => {
      socket.disconnect();
      reject(error);
    });
  });
}

/** The message of the connect_error a refused handshake produces. */
export async function refusal(
  baseUrl: string,
  opts: { token?: string; query?: Record<string, string> },
): Promise<string> {
  try {
    const client = await connectClient(baseUrl, opts);
    client.close();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the connection was accepted');
}
