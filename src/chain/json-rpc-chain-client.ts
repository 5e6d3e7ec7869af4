import type { Hex } from '../common/evm.js';
import type { HeadPush, HeadPushHandlers, HeadSource } from './head-stream.js';
import {
  createHttpRequester,
  type RpcRequester,
  RpcTransportError,
  WsRpcConnection,
} from './json-rpc-transport.js';
import {
  type ChainClientOptions,
  ChainIdMismatchError,
  parseHead,
  RpcChainClient,
} from './rpc-chain-client.js';

export interface JsonRpcChainClientOptions extends ChainClientOptions {
  /** ws(s):// (heads pushed over `eth_subscribe`) or http(s):// (heads polled). */
  url: string;
  /**
   * Where requests go while the socket is down, and where heads are polled. Default: the ws URL
   * with http(s) as its scheme, which is where anvil, geth, Alchemy and Infura serve HTTP.
   */
  httpUrl?: string;
  requestTimeoutMs?: number;
}

/**
 * A ChainClient for any JSON-RPC node. With a ws URL, one socket carries the head subscription and
 * the reads (lowest latency); when that socket is down, reads go over HTTP and heads are polled
 * until the socket is back.
 */
export class JsonRpcChainClient extends RpcChainClient {
  private readonly wsUrl: string | null;
  private readonly http: RpcRequester;
  private socket: WsRpcConnection | null = null;

  constructor(private readonly settings: JsonRpcChainClientOptions) {
    super(settings);
    const protocol = new URL(settings.url).protocol;
    const isWs = protocol === 'ws:' || protocol === 'wss:';
    this.wsUrl = isWs ? settings.url : null;
    const httpUrl = settings.httpUrl ?? (isWs ? settings.url.replace(/^ws/i, 'http') : settings.url);
    this.http = createHttpRequester(httpUrl, settings.requestTimeoutMs ?? 15_000);
  }

  protected async request<T>(method: string, params: readonly unknown[]): Promise<T> {
    const socket = this.socket;
    if (socket?.isOpen === true) {
      try {
        return await socket.request<T>(method, params);
      } catch (error) {
        // The socket died under this request: it is still worth an answer, over HTTP.
        if (!(error instanceof RpcTransportError)) throw error;
      }
    }
    return this.http.request<T>(method, params);
  }

  protected headSource(): HeadSource {
    return {
      openPush: this.wsUrl === null ? null : (handlers) => this.openPush(handlers),
      // Over the socket when it is up (the catch-up read right after subscribing), else HTTP.
      pollHead: () => this.latestHead(),
    };
  }

  private async openPush(handlers: HeadPushHandlers): Promise<HeadPush> {
    this.socket?.close();
    const socket = await WsRpcConnection.open(this.wsUrl as string, {
      timeoutMs: this.settings.requestTimeoutMs ?? 15_000,
      requestTimeoutMs: this.settings.requestTimeoutMs,
    });
    try {
      // Following the wrong chain would record fake deposits: refuse the node instead.
      const chainId = BigInt(await socket.request<Hex>('eth_chainId', []));
      if (chainId !== this.chainId) throw new ChainIdMismatchError(this.options.name, chainId, this.chainId);
    } catch (error) {
      socket.close();
      throw error;
    }
    this.socket = socket;
    socket.onClose((reason) => handlers.onDown(reason));
    try {
      await socket.subscribe(['newHeads'], (data) => {
        const head = data as { number?: Hex; hash?: Hex; parentHash?: Hex; timestamp?: Hex };
        if (head.number && head.hash && head.parentHash && head.timestamp)
          handlers.onHead(parseHead(head as never));
      });
    } catch (error) {
      socket.close();
      throw error;
    }
    return {
      close: () => {
        socket.close();
        if (this.socket === socket) this.socket = null;
      },
    };
  }

  protected async closeTransport(): Promise<void> {
    this.socket?.close();
    this.socket = null;
  }
}
