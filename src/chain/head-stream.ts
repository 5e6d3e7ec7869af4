import { RepeatedWarning } from '../logging/repeated-warning.js';
import type { BlockHead, HeadListenerOptions, Unsubscribe } from './chain-client.js';

export interface HeadPush {
  close(): void;
}

export interface HeadPushHandlers {
  onHead(head: BlockHead): void;
  /** The push stream died (socket closed, subscription lost); called at most once per stream. */
  onDown(reason: Error): void;
}

/** What an adapter provides; the stream logic (fallback, backoff, watchdog) is shared. */
export interface HeadSource {
  /** Opens a push stream of heads; resolves once subscribed. Null: the adapter can only poll. */
  openPush: ((handlers: HeadPushHandlers) => Promise<HeadPush>) | null;
  pollHead(): Promise<BlockHead>;
}

export interface HeadStreamLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface HeadStreamOptions {
  pollIntervalMs: number;
  stallTimeoutMs: number;
  /** First reconnect delay; doubles per failed attempt up to maxBackoffMs, each with jitter. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  logger: HeadStreamLogger;
  /** For tests of the jitter; Math.random otherwise. */
  random?: () => number;
}

type State = 'idle' | 'connecting' | 'live' | 'down' | 'closed';

/**
 * One head stream per client, shared by its listeners.
 *
 * - live: heads come from the push stream; the watchdog is re-armed by every head, and when
 *   `stallTimeoutMs` passes without one it declares the stream down (a socket can stay open
 *   while the node or the subscription is dead).
 * - down: heads come from polling every `pollIntervalMs` (emitted when the hash changes), and a
 *   reconnect is scheduled with exponential backoff and jitter.
 * - every successful (re)connect fires `onReconnect`, so the follower backfills what it missed.
 *
 * Invariant: at most one push stream, one poll and one timer of each kind exist at a time, and
 * none after `close()`. Callbacks of a stream that has been replaced are ignored (`generation`).
 */
export class HeadStream {
  private readonly listeners = new Set<HeadListenerOptions>();
  private state: State = 'idle';
  private generation = 0;
  private push: HeadPush | null = null;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Bumped whenever polling starts or stops, so a poll of an earlier round does nothing. */
  private pollRound = 0;
  private lastHash: string | null = null;
  /** The height of the head emitted last, and how many were emitted (see catchUpHead). */
  private lastNumber = -1n;
  private emitted = 0;
  /** Poll-only sources: whether the last poll failed, so the next success counts as a reconnect. */
  private pollHealthy = false;
  /** Polls fail every `pollIntervalMs` while a node is away: logged once, then at a slowing rate. */
  private readonly pollFailing: RepeatedWarning;

  constructor(
    private readonly source: HeadSource,
    private readonly options: HeadStreamOptions,
  ) {
    this.pollFailing = new RepeatedWarning((message) => options.logger.warn(message));
  }

  subscribe(listener: HeadListenerOptions): Unsubscribe {
    if (this.state === 'closed') throw new Error('the chain client is closed');
    this.listeners.add(listener);
    if (this.state === 'idle') this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.state !== 'closed') this.stop('idle');
    };
  }

  async close(): Promise<void> {
    this.stop('closed');
    this.listeners.clear();
    // A read still in flight is not awaited (it may hang until its timeout); when it settles, the
    // bumped generation/round make it a no-op.
  }

  private start(): void {
    if (this.source.openPush === null) {
      this.state = 'down';
      this.startPolling();
      return;
    }
    this.state = 'connecting';
    this.track(this.connect());
  }

  private stop(next: 'idle' | 'closed'): void {
    this.state = next;
    this.generation += 1;
    this.push?.close();
    this.push = null;
    this.attempt = 0;
    this.pollHealthy = false;
    this.pollFailing.clear();
    this.lastHash = null;
    this.lastNumber = -1n;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.watchdogTimer);
    this.reconnectTimer = this.watchdogTimer = undefined;
    this.stopPolling();
  }

  /** Never rejects: every failure becomes a state transition. */
  private async connect(): Promise<void> {
    const openPush = this.source.openPush;
    if (openPush === null) return;
    const generation = ++this.generation;
    try {
      const push = await openPush({
        onHead: (head) => {
          if (generation === this.generation) this.onPushedHead(head);
        },
        onDown: (reason) => {
          if (generation === this.generation) this.pushDown(reason);
        },
      });
      if (generation !== this.generation) {
        push.close(); // Stopped or replaced while connecting.
        return;
      }
      this.push = push;
      this.state = 'live';
      this.attempt = 0;
      this.stopPolling();
      this.pollFailing.clear(); // the node is back: its next outage is logged at once
      this.armWatchdog();
      this.options.logger.log('head subscription live');
      this.fireReconnect();
      this.track(this.catchUpHead(generation));
    } catch (error) {
      if (generation === this.generation)
        this.pushDown(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * One read of the latest head right after (re)subscribing: a block mined between the last poll
   * and the subscription would otherwise reach listeners only through their onReconnect backfill.
   * Never rejects.
   */
  private async catchUpHead(generation: number): Promise<void> {
    const emitted = this.emitted;
    try {
      const head = await this.source.pollHead();
      // A block pushed while the read was in flight may be newer than its answer: not pulled back.
      const stale = this.emitted !== emitted && head.number <= this.lastNumber;
      if (generation !== this.generation) return;
      if (!stale) this.emit(head);
      // Lower than the pushed head: stale, or the node rolled back after the push. Read again; with
      // no push during that read, its answer stands.
      else if (head.number < this.lastNumber) this.track(this.catchUpHead(generation));
    } catch {
      // The subscription is live; its next head or the watchdog will tell.
    }
  }

  private pushDown(reason: Error): void {
    const wasLive = this.state === 'live';
    this.generation += 1; // Ignore anything the dead stream still says.
    this.push?.close();
    this.push = null;
    clearTimeout(this.watchdogTimer);
    this.watchdogTimer = undefined;
    this.state = 'down';
    this.startPolling();
    const delay = this.scheduleReconnect();
    // Backoff caps the rate of these lines (at most one per maxBackoffMs while a node is away).
    this.options.logger.warn(
      wasLive
        ? `head subscription down (${reason.message}); polling every ${this.options.pollIntervalMs} ms, reconnecting in ${delay} ms`
        : `head subscription failed (${reason.message}); retrying in ${delay} ms`,
    );
  }

  /** Returns the chosen delay. */
  private scheduleReconnect(): number {
    const initial = this.options.initialBackoffMs ?? 500;
    const max = this.options.maxBackoffMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.attempt, 30));
    // Jitter in [base/2, base): many monitors reconnecting to one node do not arrive together.
    const delay = Math.round(base * (0.5 + (this.options.random ?? Math.random)() / 2));
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state !== 'down') return;
      this.state = 'connecting';
      this.track(this.connect());
    }, delay);
    return delay;
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdogTimer);
    this.watchdogTimer = setTimeout(() => {
      this.watchdogTimer = undefined;
      if (this.state !== 'live') return;
      this.options.logger.warn(`no head for ${this.options.stallTimeoutMs} ms; reconnecting`);
      this.attempt = 0; // A stall is not a failing endpoint: reconnect soon.
      this.pushDown(new Error('stalled'));
    }, this.options.stallTimeoutMs);
  }

  private onPushedHead(head: BlockHead): void {
    this.armWatchdog();
    this.emit(head);
  }

  private startPolling(): void {
    if (this.polling) return;
    this.polling = true;
    this.pollRound += 1;
    this.track(this.pollOnce(this.pollRound));
  }

  private stopPolling(): void {
    this.polling = false;
    this.pollRound += 1;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Never rejects. Schedules the next poll while this polling round lasts. */
  private async pollOnce(round: number): Promise<void> {
    try {
      const head = await this.source.pollHead();
      if (round !== this.pollRound) return;
      this.pollFailing.clear();
      if (this.source.openPush === null && !this.pollHealthy) {
        this.pollHealthy = true;
        this.fireReconnect();
      }
      this.emit(head);
    } catch (error) {
      if (round !== this.pollRound) return;
      if (this.pollHealthy || this.source.openPush !== null) {
        this.pollFailing.warn(
          `polling the head failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      this.pollHealthy = false;
    }
    if (round !== this.pollRound) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      if (round === this.pollRound) this.track(this.pollOnce(round));
    }, this.options.pollIntervalMs);
  }

  /**
   * Hands `head` to the listeners unless it is the head they got last: polls repeat it, and the
   * read right after (re)subscribing and the push that follows can both return one just mined.
   */
  private emit(head: BlockHead): void {
    if (head.hash === this.lastHash) return;
    this.lastHash = head.hash;
    this.lastNumber = head.number;
    this.emitted++;
    for (const listener of [...this.listeners]) {
      try {
        listener.onHead(head);
      } catch (error) {
        this.options.logger.error(
          `head listener threw: ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
    }
  }

  private fireReconnect(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener.onReconnect?.();
      } catch (error) {
        this.options.logger.error(
          `reconnect listener threw: ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
    }
  }

  /** For connect() and pollOnce(), which never reject: every failure is a state transition. */
  private track(promise: Promise<void>): void {
    void promise;
  }
}
