import type Redis from 'ioredis';

/** One window's count for a key: whether this hit was within the limit, and when the window ends. */
export interface RateLimitState {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Epoch milliseconds at which the window, and with it the count, ends. */
  resetAt: number;
}

// INCR, and on the window's first hit set its expiry; one round trip, atomic.
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

const PEEK = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local ttl = redis.call('PTTL', KEYS[1])
return {n, ttl}`;

type Scripted = Redis & {
  townhallRateHit(key: string, windowMs: number): Promise<[number, number]>;
  townhallRatePeek(key: string): Promise<[number, number]>;
};

/**
 * Fixed-window counters in Redis, shared by every process: `hit` counts a request and says whether it
 * is within the limit; `peek` reads a count without adding to it (for limits on failures, which are
 * counted only when they happen). Fixed windows allow a burst of twice the limit across a window edge,
 * which for abuse limits is acceptable and costs one key per client instead of a sorted set.
 */
export class FixedWindowLimiter {
  private readonly redis: Scripted;

  constructor(redis: Redis) {
    if (!('townhallRateHit' in redis)) {
      redis.defineCommand('townhallRateHit', { numberOfKeys: 1, lua: HIT });
      redis.defineCommand('townhallRatePeek', { numberOfKeys: 1, lua: PEEK });
    }
    this.redis = redis as Scripted;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitState> {
    const [count, ttl] = await this.redis.townhallRateHit(key, windowMs);
    return state(count, ttl, limit, windowMs, count <= limit);
  }

  async peek(key: string, limit: number, windowMs: number): Promise<RateLimitState> {
    const [count, ttl] = await this.redis.townhallRatePeek(key);
    return state(count, ttl, limit, windowMs, count < limit);
  }
}

function state(
  count: number,
  ttl: number,
  limit: number,
  windowMs: number,
  allowed: boolean,
): RateLimitState {
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - count),
    resetAt: Date.now() + (ttl > 0 ? ttl : windowMs),
  };
}
