import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { createClient } from 'redis';
import { DataSource } from 'typeorm';

import { feedIsUp, PriceFeed } from '../alerts/feed/price-feed.js';
import type { AppConfig } from '../config/config.js';
import { InjectConfig } from '../config/config.module.js';
import { MonitorSupervisor } from '../monitor/monitor.supervisor.js';
import { closeRedis } from '../common/redis-connect.js';

const CHECK_TIMEOUT_MS = 3_000;

type RedisClient = ReturnType<typeof createClient>;

/**
 * The checks of GET /health/ready, each a terminus indicator: the database; Redis when REDIS_URL
 * is set; the followers this process leads (not stalled, see ChainFollower.status); the exchange
 * feed when this process runs one. A check that does not apply to this process is left out.
 */
@Injectable()
export class Readiness implements OnModuleDestroy {
  private redis: Promise<RedisClient> | undefined;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  checks(): Array<() => Promise<HealthIndicatorResult>> {
    return [
      () => this.database(),
      ...(this.config.realtime.redisUrl === undefined ? [] : [() => this.redisPing()]),
      ...(this.find(MonitorSupervisor) ? [() => this.followers()] : []),
      ...(this.find(PriceFeed) ? [() => this.feed()] : []),
    ];
  }

  async onModuleDestroy(): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    const client = await redis?.catch(() => undefined);
    if (client) await closeRedis(client);
  }

  private async database(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('database');
    try {
      await withTimeout(this.dataSource.query('SELECT 1'));
      return check.up();
    } catch (error) {
      return check.down({ message: (error as Error).message });
    }
  }

  private async redisPing(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('redis');
    try {
      this.redis ??= this.connectRedis();
      await withTimeout((await this.redis).ping());
      return check.up();
    } catch (error) {
      return check.down({ message: (error as Error).message });
    }
  }

  private async connectRedis(): Promise<RedisClient> {
    const client = createClient({
      url: this.config.realtime.redisUrl,
      // Fail a ping at once while disconnected (the client reconnects in the background).
      disableOfflineQueue: true,
      socket: { connectTimeout: CHECK_TIMEOUT_MS },
    });
    client.on('error', () => undefined); // reported by the next ping
    try {
      await client.connect();
    } catch (error) {
      this.redis = undefined;
      throw error;
    }
    return client;
  }

  private followers(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('followers');
    const networks: Record<string, string> = {};
    let stalled = false;
    for (const n of this.find(MonitorSupervisor)!.networkStatus()) {
      if (!n.leading) networks[n.network] = 'not led by this process';
      else if (n.up) networks[n.network] = `following (head ${n.head ?? '?'}, cursor ${n.cursor ?? '?'})`;
      else {
        stalled = true;
        networks[n.network] = `stalled (head ${n.head ?? '?'}, cursor ${n.cursor ?? '?'})`;
      }
    }
    return Promise.resolve(stalled ? check.down(networks) : check.up(networks));
  }

  private feed(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('price_feed');
    const status = this.find(PriceFeed)!.status();
    const lastMessage =
      status.lastMessageAtMs === undefined ? null : new Date(status.lastMessageAtMs).toISOString();
    const data = { connected: status.connected, last_message_at: lastMessage };
    return Promise.resolve(
      feedIsUp(status, this.config.alerts.priceStaleSeconds * 1000) ? check.up(data) : check.down(data),
    );
  }

  private find<T>(token: abstract new (...args: never[]) => T): T | undefined {
    try {
      return this.moduleRef.get(token, { strict: false });
    } catch {
      return undefined;
    }
  }
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
