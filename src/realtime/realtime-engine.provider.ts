import { Logger, type Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { AppConfig } from '../config/config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { PostgresEngine } from './postgres-engine.js';
import { RealtimeEngine } from './realtime-engine.js';
import { databaseUrlOf } from './realtime-pool.js';
import { RedisEngine } from './redis-engine.js';

/** Redis when `REDIS_URL` is set, otherwise PostgreSQL (no extra service). */
export function createRealtimeEngine(config: AppConfig, databaseUrl: string): Promise<RealtimeEngine> {
  const { redisUrl } = config.realtime;
  const logger = new Logger('RealtimeModule');
  if (redisUrl === undefined) {
    logger.log('events cross processes through postgres (set REDIS_URL to use Redis)');
    return Promise.resolve(new PostgresEngine(databaseUrl));
  }
  logger.log(`events cross processes through redis (${new URL(redisUrl).host})`);
  return RedisEngine.connect(redisUrl, config.role !== 'monitor', config.realtime.redisConnectTimeoutMs);
}

export const realtimeEngineProvider: Provider = {
  provide: RealtimeEngine,
  inject: [APP_CONFIG, DataSource],
  useFactory: (config: AppConfig, dataSource: DataSource) =>
    createRealtimeEngine(config, databaseUrlOf(dataSource)),
};
