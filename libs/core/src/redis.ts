import Redis from 'ioredis';

const EVICTING = /^(allkeys|volatile)-/;

/**
 * Checks the Redis that queues and rate limits will live in: it must answer, and it must not evict
 * keys under memory pressure (an evicted job is a lost delivery). Returns a list of problems.
 */
export async function checkRedis(url: string): Promise<string[]> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    if (EVICTING.test(policy ?? '')) {
      return [
        `Redis at ${redact(url)} uses maxmemory-policy "${policy}", which evicts keys and would lose queued jobs. ` +
          'Set it to "noeviction" (redis-cli CONFIG SET maxmemory-policy noeviction).',
      ];
    }
    return [];
  } catch (err) {
    return [
      `Redis at ${redact(url)} is not reachable (${(err as Error).message}). Start one, for example: ` +
        'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no — or set REDIS_URL.',
    ];
  } finally {
    // After a failed connect the client has already ended; disconnecting again would arm a
    // reconnect timer that keeps the process alive.
    if (redis.status !== 'end') redis.disconnect();
  }
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
