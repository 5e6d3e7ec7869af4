import { Alchemy, type AlchemySettings, Network } from 'alchemy-sdk';

import type { HeadPush, HeadPushHandlers, HeadSource } from './head-stream.js';
import { RpcResponseError, RpcTransportError } from './json-rpc-transport.js';
import {
  type ChainClientOptions,
  ChainIdMismatchError,
  parseHead,
  RpcChainClient,
} from './rpc-chain-client.js';

/** Chains Alchemy serves, by chain id (the key of a network row may be anything). */
export const ALCHEMY_NETWORKS: ReadonlyMap<bigint, Network> = new Map([
  [1n, Network.ETH_MAINNET],
  [11155111n, Network.ETH_SEPOLIA],
  [17000n, Network.ETH_HOLESKY],
  [560048n, Network.ETH_HOODI],
  [10n, Network.OPT_MAINNET],
  [11155420n, Network.OPT_SEPOLIA],
  [42161n, Network.ARB_MAINNET],
  [421614n, Network.ARB_SEPOLIA],
  [137n, Network.MATIC_MAINNET],
  [80002n, Network.MATIC_AMOY],
  [8453n, Network.BASE_MAINNET],
  [84532n, Network.BASE_SEPOLIA],
]);

export interface AlchemyChainClientOptions extends ChainClientOptions {
  apiKey: string;
  network: Network;
  /**
   * Endpoint overrides (tests point them at a local shim). The SDK takes one `url` per instance and
   * uses it for HTTP or for its WebSocket, so each side gets its own Alchemy instance.
   */
  httpUrl?: string;
  wsUrl?: string;
  /** How long a push connection may take to answer before it counts as failed. */
  connectTimeoutMs?: number;
}

interface EthersLikeError {
  error?: { code?: unknown; message?: string };
  body?: string;
  message?: string;
}

interface BlockEmitter {
  on(event: 'block', listener: (blockNumber: number) => void): unknown;
  send(method: string, params: unknown[]): Promise<unknown>;
  destroy(): Promise<void>;
  /** ethers' live subscriptions by id (internal; read only, to know when `block` is routed). */
  _subs?: Record<string, { tag: string }>;
  _websocket: {
    addEventListener(event: 'down', listener: () => void): void;
    removeEventListener(event: 'down', listener: () => void): void;
  };
}

/** ethers (inside the SDK) reports a node's JSON-RPC error as SERVER_ERROR with the error inside. */
function rpcErrorOf(method: string, error: unknown): Error {
  const e = error as EthersLikeError;
  let inner = e.error;
  if (typeof inner?.code !== 'number' && typeof e.body === 'string') {
    try {
      inner = (JSON.parse(e.body) as { error?: { code?: unknown; message?: string } }).error;
    } catch {
      inner = undefined;
    }
  }
  if (typeof inner?.code === 'number')
    return new RpcResponseError(method, inner.code, inner.message ?? 'error');
  return new RpcTransportError(method, e.message?.split('\n')[0] ?? String(error), { cause: error });
}

/**
 * A ChainClient on Alchemy through `alchemy-sdk`: reads through `core.send` (raw JSON-RPC, so
 * parsing is shared with the JSON-RPC adapter), heads from the SDK's WebSocket `block` event.
 *
 * The SDK's socket reconnects and backfills by itself; we do not rely on that. When it reports the
 * socket down, this stream is dropped and a fresh one opened by the shared head stream, with the
 * same polling fallback, backoff and watchdog as any node — and `onReconnect` so the follower
 * backfills from its own cursor.
 */
export class AlchemyChainClient extends RpcChainClient {
  private readonly core: Alchemy;
  private readonly pushes = new Set<BlockEmitter>();

  constructor(private readonly settings: AlchemyChainClientOptions) {
    super(settings);
    this.core = new Alchemy(this.sdkSettings(settings.httpUrl));
  }

  private sdkSettings(url: string | undefined): AlchemySettings {
    return {
      apiKey: this.settings.apiKey,
      network: this.settings.network,
      maxRetries: 2,
      ...(url && { url }),
    };
  }

  protected async request<T>(method: string, params: readonly unknown[]): Promise<T> {
    try {
      return (await this.core.core.send(method, [...params])) as T;
    } catch (error) {
      throw rpcErrorOf(method, error);
    }
  }

  protected headSource(): HeadSource {
    return {
      openPush: (handlers) => this.openPush(handlers),
      pollHead: () => this.latestHead(),
    };
  }

  /**
   * One SDK instance per physical socket session. The SDK would reconnect and resubscribe by itself,
   * but a socket that drops at any point — even while we are still subscribing — ends this session:
   * before it is live the connect fails, after it the stream is down. Either way the shared head
   * stream polls and opens a fresh instance, and `onReconnect` makes the follower backfill.
   */
  private async openPush(handlers: HeadPushHandlers): Promise<HeadPush> {
    const sdk = new Alchemy(this.sdkSettings(this.settings.wsUrl));
    const provider = (await sdk.config.getWebSocketProvider()) as unknown as BlockEmitter;
    this.pushes.add(provider);
    let open = true;
    let live = false;
    let failConnect: ((error: Error) => void) | undefined;
    const onDown = (): void => {
      if (!open) return;
      if (live) handlers.onDown(new Error('Alchemy websocket down'));
      else failConnect?.(new Error('Alchemy websocket down while subscribing'));
    };
    const close = (): void => {
      if (!open) return;
      open = false;
      provider._websocket.removeEventListener('down', onDown);
      this.pushes.delete(provider);
      provider.destroy().catch(() => undefined);
    };
    provider._websocket.addEventListener('down', onDown);

    const timeoutMs = this.settings.connectTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      failConnect = reject;
      timer = setTimeout(() => reject(new Error(`not subscribed within ${timeoutMs} ms`)), timeoutMs);
    });
    const subscribe = async (): Promise<void> => {
      const chainId = BigInt((await provider.send('eth_chainId', [])) as string);
      if (chainId !== this.chainId) throw new ChainIdMismatchError(this.settings.name, chainId, this.chainId);
      // The SDK announces numbers only: fetch each head, in announcement order (one chain of reads).
      let reads: Promise<void> = Promise.resolve();
      provider.on('block', (blockNumber: number) => {
        reads = reads.then(async () => {
          if (!open) return;
          try {
            const raw = await provider.send('eth_getBlockByNumber', [`0x${blockNumber.toString(16)}`, false]);
            if (open && raw !== null) handlers.onHead(parseHead(raw as never));
          } catch (error) {
            if (open) this.logger.warn(`reading announced block ${blockNumber} failed: ${String(error)}`);
          }
        });
      });
      // Live only once the node has accepted eth_subscribe and the SDK routes its notifications (it
      // reads the block number, subscribes, then maps the id): a head mined before that would be
      // missed with nobody told to backfill — onReconnect fires when this resolves.
      while (!Object.values(provider._subs ?? {}).some((sub) => sub.tag === 'block')) {
        if (!open) throw new Error('closed while subscribing');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    try {
      await Promise.race([subscribe(), failed]);
      live = true;
    } catch (error) {
      close();
      throw error instanceof ChainIdMismatchError ? error : rpcErrorOf('connect', error);
    } finally {
      clearTimeout(timer);
      failed.catch(() => undefined); // It may reject later (a down after live goes to onDown instead).
    }
    return { close };
  }

  protected async closeTransport(): Promise<void> {
    await Promise.allSettled([...this.pushes].map((p) => p.destroy()));
    this.pushes.clear();
  }
}
