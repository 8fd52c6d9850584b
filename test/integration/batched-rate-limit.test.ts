import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { BatchedWindowLimiter } from '@townhall/core';
import { runRedisPrefix } from '../support/test-run';

/** The tenant rate limit's counters, shared by processes through real Redis in batches. */
describe('BatchedWindowLimiter (real Redis)', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `${runRedisPrefix()}batched_${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('decides exactly in one process', () => {
    const limiter = new BatchedWindowLimiter(redis, 10_000);
    const key = `${prefix}:one`;
    const states = Array.from({ length: 6 }, () => limiter.hit(key, 5, 60_000));
    expect(states.map((s) => s.allowed)).toEqual([true, true, true, true, true, false]);
    expect(states.map((s) => s.remaining)).toEqual([4, 3, 2, 1, 0, 0]);
  });

  it('counts hits that arrive while a flush is under way', async () => {
    const limiter = new BatchedWindowLimiter(redis, 10_000);
    const key = `${prefix}:racing`;
    limiter.hit(key, 5, 60_000);
    limiter.hit(key, 5, 60_000);
    const flushing = limiter.flush();
    expect(limiter.hit(key, 5, 60_000).remaining).toBe(2);
    await flushing;
    expect(limiter.hit(key, 5, 60_000).remaining).toBe(1);
    await limiter.close();
    expect(limiter.hit(key, 5, 60_000).remaining).toBe(0);
  });

  it('shares counts between processes after a flush, and a new window starts afresh', async () => {
    const a = new BatchedWindowLimiter(redis, 10_000);
    const b = new BatchedWindowLimiter(redis, 10_000);
    const key = `${prefix}:shared`;
    const now = Date.now();
    for (let i = 0; i < 3; i++) expect(a.hit(key, 5, 60_000, now).allowed).toBe(true);
    await a.flush();
    for (let i = 0; i < 2; i++) expect(b.hit(key, 5, 60_000, now).allowed).toBe(true);
    await b.flush();
    // b learnt a's three hits: its next is the sixth overall.
    expect(b.hit(key, 5, 60_000, now)).toMatchObject({ allowed: false, remaining: 0 });
    await b.flush();
    expect(Number(await redis.get(`${key}:${Math.floor(now / 60_000) * 60_000}`))).toBe(6);
    // The next window is counted under its own key.
    expect(a.hit(key, 5, 60_000, now + 60_000)).toMatchObject({ allowed: true, remaining: 4 });
    await a.close();
    await b.close();
  });

  it('keeps counting locally when Redis is away', async () => {
    const away = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    away.on('error', () => undefined);
    const limiter = new BatchedWindowLimiter(away, 10_000);
    const key = `${prefix}:away`;
    limiter.hit(key, 2, 60_000);
    await limiter.flush();
    expect(limiter.hit(key, 2, 60_000).allowed).toBe(true);
    expect(limiter.hit(key, 2, 60_000).allowed).toBe(false);
    away.disconnect();
  });
});
