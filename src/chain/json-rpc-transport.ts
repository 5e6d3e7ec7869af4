import { http, RpcError } from 'viem';
import WebSocket from 'ws';

/** The node answered, with a JSON-RPC error (as opposed to: the node could not be reached). */
export class RpcResponseError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(`${method} failed: ${message} (code ${code})`);
    this.name = 'RpcResponseError';
  }
}

/** The request never got an answer: socket closed, connection refused, timeout. */
export class RpcTransportError extends Error {
  constructor(
    readonly method: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${message}`, options);
    this.name = 'RpcTransportError';
  }
}

export interface RpcRequester {
  request<T>(method: string, params: readonly unknown[]): Promise<T>;
}

/**
 * JSON-RPC over HTTP through viem's http transport. Requests made in the same tick go out as one
 * JSON-RPC batch (per-transaction receipts), and viem's own retries are off: the caller decides.
 */
export function createHttpRequester(url: string, timeoutMs: number): RpcRequester {
  const transport = http(url, { batch: { batchSize: 500, wait: 0 }, retryCount: 0, timeout: timeoutMs })({
    retryCount: 0,
  });
  return {
    async request<T>(method: string, params: readonly unknown[]): Promise<T> {
      try {
        return await transport.request({ method, params: params as unknown[] } as never);
      } catch (error) {
        if (error instanceof RpcError)
          throw new RpcResponseError(method, error.code, error.details || error.shortMessage);
        throw new RpcTransportError(
          method,
          error instanceof Error ? error.message.split('\n')[0] : String(error),
          {
            cause: error,
          },
        );
      }
    },
  };
}

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface RpcMessage {
  id?: number;
  method?: string;
  result?: unknown;
  error?: { code: number; message: string };
  params?: { subscription: string; result: unknown };
}

/**
 * One JSON-RPC WebSocket. It never reconnects by itself (the head stream owns that decision);
 * when the socket closes, every pending request fails at once with RpcTransportError and
 * `onClose` listeners run exactly once.
 */
export class WsRpcConnection implements RpcRequester {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Map<string, (data: unknown) => void>();
  private readonly closeListeners: ((reason: Error) => void)[] = [];
  private closedReason: Error | null = null;
  private corked = false;

  private constructor(
    private readonly socket: WebSocket,
    private readonly requestTimeoutMs: number,
  ) {
    socket.on('message', (data: WebSocket.RawData) => this.onMessage(data));
    socket.on('close', (code: number) => this.markClosed(new Error(`socket closed (${code})`)));
    socket.on('error', (error: Error) => this.markClosed(error));
  }

  static open(
    url: string,
    options: { timeoutMs: number; protocols?: string | string[]; requestTimeoutMs?: number },
  ): Promise<WsRpcConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options.protocols, {
        handshakeTimeout: options.timeoutMs,
        perMessageDeflate: false,
      });
      // ws may emit 'error' more than once (e.g. terminate() during the handshake); an 'error'
      // without a listener would crash the process, so one stays for the socket's lifetime.
      socket.on('error', () => undefined);
      const onError = (error: Error): void => {
        socket.off('open', onOpen);
        socket.terminate();
        reject(new RpcTransportError('connect', `${url}: ${error.message}`, { cause: error }));
      };
      const onOpen = (): void => {
        socket.off('error', onError);
        resolve(new WsRpcConnection(socket, options.requestTimeoutMs ?? 15_000));
      };
      socket.once('error', onError);
      socket.once('open', onOpen);
    });
  }

  get isOpen(): boolean {
    return this.closedReason === null;
  }

  onClose(listener: (reason: Error) => void): void {
    if (this.closedReason) listener(this.closedReason);
    else this.closeListeners.push(listener);
  }

  request<T>(method: string, params: readonly unknown[]): Promise<T> {
    return this.send<T>(method, params, undefined);
  }

  /**
   * `eth_subscribe`; `onData` is registered before the answer is handed back, so a notification that
   * arrives in the same frame batch as the answer is not lost.
   */
  subscribe(params: readonly unknown[], onData: (data: unknown) => void): Promise<string> {
    return this.send<string>('eth_subscribe', params, (id) => this.subscriptions.set(id as string, onData));
  }

  close(): void {
    this.markClosed(new Error('closed by client'));
    this.socket.terminate();
  }

  private send<T>(
    method: string,
    params: readonly unknown[],
    onResult: ((result: unknown) => void) | undefined,
  ): Promise<T> {
    if (this.closedReason) return Promise.reject(new RpcTransportError(method, this.closedReason.message));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcTransportError(method, `no answer within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, {
        method,
        resolve: (result) => {
          onResult?.(result);
          resolve(result as T);
        },
        reject,
        timer,
      });
      this.cork();
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }), (error) => {
        if (error) this.fail(id, new RpcTransportError(method, error.message, { cause: error }));
      });
    });
  }

  /**
   * Requests sent in one tick leave in one write: the TCP socket under ws is corked until the next
   * tick (ws corks it per frame the same way; corks nest), so a batch of block reads costs one
   * `writev` instead of one per frame (measured: backfill +7 %, BENCHMARKS.md). `_socket` is ws's
   * own field; without it requests are simply sent one write each.
   */
  private cork(): void {
    if (this.corked) return;
    const raw = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (!raw) return;
    raw.cork();
    this.corked = true;
    process.nextTick(() => {
      this.corked = false;
      raw.uncork();
    });
  }

  private fail(id: number, error: Error): void {
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  private onMessage(data: WebSocket.RawData): void {
    let parsed: RpcMessage | RpcMessage[];
    try {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Buffer.from(new Uint8Array(data)).toString('utf8');
      parsed = JSON.parse(text) as RpcMessage | RpcMessage[];
    } catch {
      return; // Not JSON-RPC; nothing is waiting for it.
    }
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
      if (message.method === 'eth_subscription' && message.params) {
        this.subscriptions.get(message.params.subscription)?.(message.params.result);
        continue;
      }
      if (typeof message.id !== 'number') continue;
      const entry = this.pending.get(message.id);
      if (!entry) continue;
      this.pending.delete(message.id);
      clearTimeout(entry.timer);
      if (message.error)
        entry.reject(new RpcResponseError(entry.method, message.error.code, message.error.message));
      else entry.resolve(message.result);
    }
  }

  private markClosed(reason: Error): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      this.pending.delete(id);
      entry.reject(new RpcTransportError(entry.method, reason.message, { cause: reason }));
    }
    this.subscriptions.clear();
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }
}
