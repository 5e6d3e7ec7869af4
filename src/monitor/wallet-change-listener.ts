import { Injectable, Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';

import { WatchSet } from './watch-set.js';

export interface WatchChangeHandlers {
  walletsChanged(): void;
  tokensChanged(networkId: string | undefined): void;
  /** A network's settings changed (its id), or any may have (undefined: after a (re)connect). */
  networksChanged?(networkId: string | undefined): void;
}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/** The database URL the app's DataSource was built with. */
export const databaseUrlOf = (dataSource: DataSource): string => {
  const url = (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('the monitor needs the DataSource to be configured with a url');
  return url;
};

/**
 * Keeps the watch set live across processes: wallets are added by the API, possibly in another
 * process, and a trigger NOTIFYs `monitor_wallets` (and `monitor_tokens`). On every (re)connect of
 * the LISTEN connection the whole set is reloaded, since notifications sent while it was down are
 * lost. Notifications make changes prompt; correctness does not depend on them (followers refresh
 * by `watch_seq` before each block). It also relays `network_settings` (a network's confirmations,
 * finality rule or enabled flag changed) to the supervisor.
 */
@Injectable()
export class WalletChangeListener {
  private readonly logger = new Logger(WalletChangeListener.name);
  private client: pg.Client | undefined;
  private handlers: WatchChangeHandlers | undefined;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly watch: WatchSet,
  ) {}

  /** Resolves once listening and the set is loaded (throws when the first attempt fails). */
  async start(handlers: WatchChangeHandlers): Promise<void> {
    this.handlers = handlers;
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: databaseUrlOf(this.dataSource), keepAlive: true });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => this.onNotification(message.channel, message.payload));
    await client.connect();
    if (this.stopped) {
      await client.end();
      return;
    }
    this.client = client;
    await client.query('LISTEN monitor_wallets');
    await client.query('LISTEN monitor_tokens');
    await client.query('LISTEN network_settings');
    await this.watch.reloadAll();
    this.failures = 0;
    this.handlers?.walletsChanged();
    this.handlers?.tokensChanged(undefined);
    this.handlers?.networksChanged?.(undefined);
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    this.logger.warn(`LISTEN connection lost${error ? `: ${error.message}` : ''}; reconnecting`);
    client.end().catch(() => undefined);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.stopped) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.failures++);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect().catch((error: unknown) => {
        this.logger.warn(`LISTEN reconnect failed: ${(error as Error).message}`);
        const client = this.client;
        this.client = undefined;
        client?.end().catch(() => undefined);
        this.reconnectLater();
      });
    }, delay);
  }

  private onNotification(channel: string, payload: string | undefined): void {
    if (channel === 'network_settings') {
      this.handlers?.networksChanged?.(payload);
      return;
    }
    if (channel === 'monitor_tokens') {
      this.handlers?.tokensChanged(payload);
      return;
    }
    let change: { op?: string; address?: string };
    try {
      change = JSON.parse(payload ?? '{}') as typeof change;
    } catch {
      return;
    }
    const applied =
      change.op === 'delete' && change.address !== undefined
        ? this.watch.removeIfUnwatched(change.address)
        : this.watch.refresh();
    applied.then(
      () => this.handlers?.walletsChanged(),
      (error: unknown) => this.logger.warn(`applying a wallet change failed: ${(error as Error).message}`),
    );
  }
}
