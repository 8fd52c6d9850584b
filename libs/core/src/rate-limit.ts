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

interface LocalCount {
  /** The count Redis held at the last flush, for every process together (ours included). */
  shared: number;
  /** Hits of this process on their way to Redis in a flush that has not answered yet. */
  flushing: number;
  /** Hits in this process not yet sent to Redis. */
  pending: number;
  resetAt: number;
}

/**
 * Fixed-window counters shared through Redis without a round trip per request: each process counts in
 * memory and adds its counts to Redis every `flushMs` (one pipelined INCRBY per busy key), learning the
 * total of all processes in return. A decision uses that total plus the process's own recent hits, so
 * with P processes a client can exceed a limit by at most what P − 1 processes admit in one flush
 * interval — for abuse limits on busy public endpoints, a fair price for taking Redis off the request
 * path. A single process decides exactly. Windows are aligned (`floor(now / window)`), so every process
 * counts into the same key.
 */
export class BatchedWindowLimiter {
  private readonly counts = new Map<string, LocalCount>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly flushMs = 50,
  ) {}

  hit(key: string, limit: number, windowMs: number, now = Date.now()): RateLimitState {
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const windowKey = `${key}:${windowStart}`;
    let count = this.counts.get(windowKey);
    if (!count) {
      count = { shared: 0, flushing: 0, pending: 0, resetAt: windowStart + windowMs };
      this.counts.set(windowKey, count);
    }
    count.pending += 1;
    const total = count.shared + count.flushing + count.pending;
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
    this.timer.unref?.();
    return { allowed: total <= limit, limit, remaining: Math.max(0, limit - total), resetAt: count.resetAt };
  }

  /** Adds this process's pending counts to Redis and learns the totals; drops finished windows. */
  async flush(): Promise<void> {
    this.timer = undefined;
    const now = Date.now();
    const batch: [string, LocalCount, number][] = [];
    for (const [key, count] of this.counts) {
      if (count.resetAt <= now) {
        this.counts.delete(key);
      } else if (count.pending > 0) {
        batch.push([key, count, count.pending]);
        count.flushing += count.pending;
        count.pending = 0;
      }
    }
    if (batch.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [key, count, added] of batch) {
      pipeline.incrby(key, added);
      pipeline.pexpireat(key, count.resetAt + 1000);
    }
    // Redis away: the counts stay pending (each process then limits on its own) and go with the next flush.
    const results = await pipeline.exec().catch(() => null);
    batch.forEach(([, count, added], i) => {
      const [err, total] = results?.[i * 2] ?? [new Error('no answer'), null];
      count.flushing -= added;
      if (!err && typeof total === 'number') count.shared = Math.max(count.shared, total);
      else count.pending += added;
    });
  }

  /** Flushes what is pending (for shutdown and tests). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }
}
