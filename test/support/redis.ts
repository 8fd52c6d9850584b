import Redis from 'ioredis';

/**
 * Removes every key under a test's Redis prefix (queues, rate-limit counters), which processes the test
 * ran leave behind. Keys are listed with SCAN, so a large keyspace does not block Redis.
 */
export async function removeRedisKeys(config: { redis: { url: string; keyPrefix: string } }): Promise<void> {
  const redis = new Redis(config.redis.url);
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${config.redis.keyPrefix}:*`, count: 500 })) {
      keys.push(...(batch as string[]));
    }
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
