import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { createTestDatabase } from './helpers/database.js';
import { freePort, spawnService, waitFor } from './helpers/process.js';

/** PIDs of processes whose command line mentions `needle`. */
function processesMentioning(needle: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'))
    .map((line) => line.trim().split(/\s+/)[0]);
}

describe('service process', () => {
  it('refuses to start on bad configuration, naming every bad variable', async () => {
    const service = spawnService({ PORT: 'eighty', DATABASE_URL: 'mysql://db/x', APP_ROLE: 'worker' });
    expect(await service.exited).toBe(1);
    expect(service.output()).toContain('PORT must be a whole number');
    expect(service.output()).toContain('DATABASE_URL must use postgres:');
    expect(service.output()).toContain('APP_ROLE must be one of');
  });

  it('stops within the configured wait, saying what to do, when REDIS_URL is set and Redis does not answer', async () => {
    const database = await createTestDatabase();
    const nobody = await freePort();
    try {
      const started = Date.now();
      const service = spawnService({
        APP_ROLE: 'api',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        DATABASE_URL: database.url,
        JWT_SECRET: 'boot-test-secret-boot-test-secret-0123456789',
        REDIS_URL: `redis://127.0.0.1:${nobody}`,
        REDIS_CONNECT_TIMEOUT_MS: '1500',
        DEVNET_ENABLED: 'false',
        ALERTS_ENABLED: 'false',
      });
      expect(await service.exited).toBe(1);
      // Start-up (migrations included) and the 1.5 s wait; without it, the start waited forever.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(service.output()).toContain(`Redis at 127.0.0.1:${nobody}`);
      expect(service.output()).toContain('did not answer within 1500 ms');
      expect(service.output()).toContain('REDIS_CONNECT_TIMEOUT_MS');
    } finally {
      await database.drop();
    }
  }, 60_000);

  it('logs JSON lines in production, without the secrets of its configuration', async () => {
    const database = await createTestDatabase();
    const key = 'k3yInThePath0123456789abcdefXYZ';
    const jwt = 'production-jwt-secret-0123456789-abcdefgh';
    const closed = await freePort();
    const service = spawnService({
      NODE_ENV: 'production',
      APP_ROLE: 'monitor',
      DATABASE_URL: database.url,
      JWT_SECRET: jwt,
      DEVNET_ENABLED: 'false',
      // Nothing listens there: the follower fails and says so.
      RPC_URL_SEPOLIA: `http://user:pw-secret-1@127.0.0.1:${closed}/v2/${key}?apiKey=${key}`,
      MONITOR_STALL_TIMEOUT_MS: '1000',
    });
    try {
      await waitFor(
        () => (/Leadership:sepolia[^\n]*failed/.test(service.output()) ? true : undefined),
        30_000,
        'the sepolia follower to fail',
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${service.output().slice(-3000)}`);
      });
      const lines = service
        .output()
        .split('\n')
        .filter((line) => line.trim() !== '');
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        expect(typeof entry.level).toBe('string');
        expect(typeof entry.time).toBe('string');
        expect(typeof entry.msg).toBe('string');
      }
      expect(lines.some((line) => (JSON.parse(line) as { context?: string }).context !== undefined)).toBe(
        true,
      );
      for (const secret of [key, jwt, 'pw-secret-1']) expect(service.output()).not.toContain(secret);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
      await database.drop();
    }
  }, 60_000);

  describe('zero-setup start on the embedded database', () => {
    let dataDir: string;

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'cdm-boot-'));
      // Run as root (CI), PostgreSQL runs as another user, which must be able to enter the directory.
      await chmod(dataDir, 0o755);
    });

    afterAll(async () => {
      await rm(dataDir, { recursive: true, force: true });
    });

    async function start() {
      const port = await freePort();
      const databasePort = await freePort();
      const service = spawnService({
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(databasePort),
        DEVNET_PORT: String(await freePort()),
        ALERTS_ENABLED: 'false',
      });
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => ((await fetch(`${base}/health`)).ok ? true : undefined),
        90_000,
        'the service to answer /health',
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${service.output().slice(-3000)}`);
      });
      return {
        service,
        base,
        databaseUrl: `postgres://postgres:postgres@127.0.0.1:${databasePort}/deposit_monitor`,
      };
    }

    it('starts with no DATABASE_URL, keeps its data across a restart, and stops cleanly on SIGTERM', async () => {
      const first = await start();
      const created = await fetch(`${first.base}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'persist@example.com', password: 'long enough pw' }),
      });
      expect(created.status).toBe(201);
      expect(processesMentioning(dataDir).length).toBeGreaterThan(0);
      // The embedded server's own settings (embedded-postgres.ts): new WAL segments not zero-filled.
      const client = new pg.Client({ connectionString: first.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ wal_init_zero: string }>('SHOW wal_init_zero');
        expect(rows).toEqual([{ wal_init_zero: 'off' }]);
      } finally {
        await client.end();
      }

      first.service.child.kill('SIGTERM');
      expect(await first.service.exited).toBe(0);
      await waitFor(
        () => (processesMentioning(dataDir).length === 0 ? true : undefined),
        10_000,
        'no child left',
      );

      const second = await start();
      const login = await fetch(`${second.base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'persist@example.com', password: 'long enough pw' }),
      });
      expect(login.status).toBe(200);
      second.service.child.kill('SIGINT');
      expect(await second.service.exited).toBe(0);
      await waitFor(
        () => (processesMentioning(dataDir).length === 0 ? true : undefined),
        10_000,
        'no child left',
      );
    }, 240_000);

    it('exits within seconds, saying why and what to do, when PostgreSQL cannot enter its data directory', async () => {
      // Closed to everyone but root: as root PostgreSQL runs as the postgres user, otherwise as us.
      const closed = await mkdtemp(path.join(os.tmpdir(), 'cdm-closed-'));
      await chmod(closed, 0o000);
      try {
        const started = Date.now();
        const service = spawnService({
          PORT: String(await freePort()),
          HOST: '127.0.0.1',
          DATA_DIR: path.join(closed, 'data'),
          EMBEDDED_PG_DIR: path.join(closed, 'data', 'postgres'),
          EMBEDDED_PG_PORT: String(await freePort()),
          DEVNET_ENABLED: 'false',
          ALERTS_ENABLED: 'false',
        });
        expect(await service.exited).toBe(1);
        expect(Date.now() - started).toBeLessThan(20_000);
        expect(service.output()).toContain(`cannot enter ${closed}`);
        expect(service.output()).toContain('DATA_DIR / EMBEDDED_PG_DIR');
        expect(processesMentioning(closed)).toEqual([]);
      } finally {
        await chmod(closed, 0o755);
        await rm(closed, { recursive: true, force: true });
      }
    }, 60_000);

    it('exits with a message naming the port when the embedded database cannot start on it', async () => {
      const holder = net.createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const taken = (holder.address() as net.AddressInfo).port;
      try {
        const service = spawnService({
          PORT: String(await freePort()),
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          EMBEDDED_PG_PORT: String(taken),
          DEVNET_PORT: String(await freePort()),
          ALERTS_ENABLED: 'false',
        });
        expect(await service.exited).toBe(1);
        expect(service.output()).toContain(`exited while starting on 127.0.0.1:${taken}`);
        expect(service.output()).toContain('EMBEDDED_PG_PORT');
        expect(processesMentioning(dataDir)).toEqual([]);
      } finally {
        holder.close();
      }
    }, 120_000);
  });
});
