import { randomBytes } from 'node:crypto';

import pg from 'pg';
import type { DataSource } from 'typeorm';

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is unset: jest global setup should have set it');
  return url;
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the test server, for one suite. Migrations run when the app starts. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `cdm_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * Until exactly one session of `dataSource`'s database waits for a lock of `locktype` (`advisory`,
 * `transactionid` for a row another transaction holds, ...): ~2 s at most, else `failure`. Other
 * databases' sessions (suites running beside this one) are not counted.
 */
export async function untilOneWaits(
  dataSource: DataSource,
  locktype: string,
  failure: string,
): Promise<void> {
  for (let i = 0; ; i++) {
    const [row] = await dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = $1 AND NOT l.granted AND a.datname = current_database()`,
      [locktype],
    );
    if (row.n === 1) return;
    if (i > 200) throw new Error(failure);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
