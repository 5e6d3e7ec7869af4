import type { Provider } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';

/** The Socket.IO adapter's own Postgres pool (DI token). */
export const REALTIME_PG_POOL = Symbol('REALTIME_PG_POOL');

/** The URL the app's DataSource was built with (DATABASE_URL, the embedded server or a test database). */
export const databaseUrlOf = (dataSource: DataSource): string => {
  const url = (dataSource.options as { url?: string }).url;
  if (!url) throw new Error('the DataSource has no url: the realtime module needs one for LISTEN/NOTIFY');
  return url;
};

/**
 * Two connections: one held for LISTEN, one for NOTIFY and cleanup. A single query connection
 * keeps this process's NOTIFYs in the order they were issued (pg's pool queues FIFO), so other
 * processes see a room's events in event-id order.
 */
export const realtimePoolProvider: Provider = {
  provide: REALTIME_PG_POOL,
  inject: [DataSource],
  useFactory: (dataSource: DataSource) => {
    const pool = new pg.Pool({ connectionString: databaseUrlOf(dataSource), max: 2, idleTimeoutMillis: 0 });
    // An idle client's error (the server restarted) must not crash the process; the adapter reconnects.
    pool.on('error', () => undefined);
    return pool;
  },
};
