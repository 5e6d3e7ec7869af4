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
