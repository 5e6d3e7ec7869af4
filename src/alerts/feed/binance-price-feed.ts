import { Logger } from '@nestjs/common';
import WebSocket from 'ws';

import { RepeatedWarning } from '../../logging/repeated-warning.js';
import { backoffDelay } from './backoff.js';
import { type BinanceStream, combinedStreamUrl, parseBinanceMessage } from './binance-messages.js';
import { type FeedStatus, PriceFeed, type PriceTick } from './price-feed.js';
import { RateLimitedSender, TokenBucket } from './token-bucket.js';

export interface BinanceFeedOptions {
  /** e.g. wss://stream.binance.com:9443 */
  baseUrl: string;
  symbols: readonly string[];
  stream?: BinanceStream;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Binance cuts a connection at 24 h; we leave earlier, on our own terms. */
  maxSessionMs?: number;
  /** Binance pings every 20 s: this long without any frame means the connection is dead. */
  stallTimeoutMs?: number;
  /** Outbound budget: capacity + rate·1 s must stay ≤ 5 (the exchange's limit). */
  outbound?: { capacity: number; refillPerSecond: number };
  random?: () => number;
}

type CloseReason = 'closed' | 'error' | 'serverShutdown' | 'maxSession' | 'stalled' | 'stopped';

interface SessionOutcome {
  reason: CloseReason;
  /** At least one price arrived: the connection was good, so the backoff starts over. */
  delivered: boolean;
}

const DEFAULTS = {
  stream: 'miniTicker' as BinanceStream,
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  maxSessionMs: 23 * 3600_000 + 50 * 60_000,
  stallTimeoutMs: 60_000,
  outbound: { capacity: 1, refillPerSecond: 4 },
};

/**
 * The Binance spot market-stream client.
 *
 * Reconnection is a loop, not recursion: `run()` awaits one session (a promise that settles when
 * its socket closes), waits a backoff, and goes round again, so a long outage grows neither the
 * stack nor a promise chain. Protocol pings are answered by us (`autoPong: false`) with the same
 * payload, through the same token bucket as every other outbound frame.
 */
export class BinancePriceFeed extends PriceFeed {
  private readonly logger = new Logger('BinanceFeed');
  /** The exchange unreachable: logged once, then at a slowing rate with a count. */
  private readonly unreachable = new RepeatedWarning((message) => this.logger.warn(message));
  private readonly options: Required<BinanceFeedOptions>;
  private readonly listeners = new Set<(tick: PriceTick) => void>();
  private readonly sender: RateLimitedSender;
  private readonly symbolSet: ReadonlySet<string>;
  private socket: WebSocket | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private state: FeedStatus = { connected: false, connections: 0, lastMessageAtMs: undefined };
  /** Delays waited before each reconnect, newest last (for tests and diagnostics). */
  readonly reconnectDelays: number[] = [];

  constructor(options: BinanceFeedOptions) {
    super();
    this.options = { ...DEFAULTS, random: Math.random, ...options };
    const { capacity, refillPerSecond } = this.options.outbound;
    if (capacity + refillPerSecond > 5)
      throw new Error('Binance allows at most 5 outbound messages a second');
    this.sender = new RateLimitedSender(new TokenBucket(capacity, refillPerSecond));
    this.symbolSet = new Set(this.options.symbols);
  }

  get symbols(): readonly string[] {
    return this.options.symbols;
  }

  get url(): string {
    return combinedStreamUrl(this.options.baseUrl, this.options.symbols, this.options.stream);
  }

  onPrice(listener: (tick: PriceTick) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): FeedStatus {
    return { ...this.state };
  }

  start(): void {
    if (this.running || this.options.symbols.length === 0) return;
    this.stopped = false;
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.socket?.terminate();
    await this.running;
    this.running = undefined;
    this.sender.clear();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const outcome = await this.session();
      if (this.stopped) break;
      failures = outcome.delivered ? 1 : failures + 1;
      // A planned cut (ours or the server's) is not a failure: come back at once, with a little
      // jitter so many instances do not arrive together.
      const planned = outcome.reason === 'serverShutdown' || outcome.reason === 'maxSession';
      if (planned) failures = 0;
      const delay = planned
        ? Math.round(this.options.random() * 250)
        : backoffDelay(
            failures,
            this.options.initialBackoffMs,
            this.options.maxBackoffMs,
            this.options.random,
          );
      this.reconnectDelays.push(delay);
      if (this.reconnectDelays.length > 100) this.reconnectDelays.shift();
      const message = `feed connection ended (${outcome.reason}); reconnecting in ${delay} ms`;
      if (planned || outcome.delivered) {
        this.unreachable.clear();
        this.logger.warn(message);
      } else this.unreachable.warn(message);
      await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private session(): Promise<SessionOutcome> {
    return new Promise((resolve) => {
      let reason: CloseReason = 'closed';
      let delivered = false;
      const ws = new WebSocket(this.url, {
        autoPong: false,
        handshakeTimeout: 10_000,
        perMessageDeflate: false,
      });
      this.socket = ws;
      const end = (why: CloseReason) => {
        reason = why;
        ws.terminate();
      };
      let stallTimer: NodeJS.Timeout | undefined;
      const touch = () => {
        this.state.lastMessageAtMs = Date.now();
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => end('stalled'), this.options.stallTimeoutMs);
      };
      let sessionTimer: NodeJS.Timeout | undefined;

      ws.on('open', () => {
        this.state.connected = true;
        this.state.connections += 1;
        touch();
        sessionTimer = setTimeout(() => end('maxSession'), this.options.maxSessionMs);
      });
      ws.on('ping', (payload: Buffer) => {
        touch();
        this.sender.send(() => {
          if (ws.readyState === WebSocket.OPEN) ws.pong(payload);
        });
      });
      ws.on('pong', touch);
      ws.on('message', (raw: WebSocket.RawData, isBinary: boolean) => {
        touch();
        if (isBinary) return;
        const message = parseBinanceMessage(rawText(raw));
        if (message.kind === 'serverShutdown') {
          end('serverShutdown');
        } else if (message.kind === 'price') {
          delivered = true;
          this.emit({ ...message, receivedAtMs: Date.now() });
        }
      });
      ws.on('error', (error: Error) => {
        if (reason === 'closed') reason = 'error';
        this.logger.warn(`feed socket error: ${error.message}`);
      });
      // ws always emits 'close' last, after an error too: the one place a session ends.
      ws.on('close', () => {
        clearTimeout(stallTimer);
        clearTimeout(sessionTimer);
        this.sender.clear();
        this.state.connected = false;
        if (this.socket === ws) this.socket = undefined;
        resolve({ reason: this.stopped ? 'stopped' : reason, delivered });
      });
    });
  }

  private emit(tick: PriceTick): void {
    if (!this.symbolSet.has(tick.symbol)) return;
    for (const listener of this.listeners) {
      try {
        listener(tick);
      } catch (error) {
        this.logger.error(`price listener failed: ${(error as Error).message}`);
      }
    }
  }
}

function rawText(raw: WebSocket.RawData): string {
  if (Buffer.isBuffer(raw)) return raw.toString('utf8');
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.from(raw).toString('utf8');
}
