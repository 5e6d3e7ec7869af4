import { createClient, type RedisClientType } from 'redis';

/**
 * `client` (by default a new one for `url`) connected, or an error within `timeoutMs` saying Redis
 * is unreachable and what to do. node-redis retries a first connection forever; a start must not
 * hang on it.
 */
export async function connectRedis(
  url: string,
  timeoutMs: number,
  role: string,
  client: RedisClientType = createClient({ url }),
): Promise<RedisClientType> {
  let lastError: Error | undefined;
  const noteError = (error: Error) => (lastError = error);
  client.on('error', noteError);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const host = new URL(url).host;
      reject(
        new Error(
          `Redis at ${host} (REDIS_URL, ${role}) did not answer within ${timeoutMs} ms` +
            `${lastError ? ` (${lastError.message || lastError.name})` : ''}: start Redis, fix REDIS_URL, ` +
            'or unset it to carry events through PostgreSQL; REDIS_CONNECT_TIMEOUT_MS sets this wait',
        ),
      );
    }, timeoutMs);
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } catch (error) {
    client.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
    client.off('error', noteError);
  }
  return client;
}

/** How long a shutdown waits for Redis to acknowledge QUIT before it drops the connection. */
const QUIT_WAIT_MS = 2000;

/**
 * Closes `client` without ever hanging a shutdown: QUIT when it is connected (bounded wait), a
 * plain disconnect otherwise. node-redis's `quit()` on a client that is reconnecting stops the
 * reconnect and queues a QUIT that is never written, so its promise never settles.
 */
export async function closeRedis(client: {
  isOpen: boolean;
  isReady: boolean;
  quit(): Promise<unknown>;
  destroy(): void;
}): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) {
    client.destroy();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), QUIT_WAIT_MS)));
  const outcome = await Promise.race([
    client.quit().then(
      () => 'quit' as const,
      () => 'failed' as const,
    ),
    late,
  ]);
  clearTimeout(timer);
  if (outcome !== 'quit') client.destroy();
}
