import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { FixedWindowLimiter, RedisConnection, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { AuthError } from './auth.errors';

/** How many leading characters of a presented token name its "family" (our tokens: kind prefix + 11). */
const TOKEN_PREFIX_LENGTH = 16;

/**
 * Limits failed authentications, counted in Redis for all processes, on two axes:
 * - per client address, so one client cannot keep guessing, however it varies the tokens; and
 * - per token prefix, so a token that is partly known (a leaked fragment, a revoked token still
 *   replayed) cannot be completed by guessing from many addresses.
 * Only failures are counted (a refused token, not a missing one), and once either count reaches
 * TOWNHALL_AUTH_FAILURE_LIMIT within TOWNHALL_AUTH_FAILURE_WINDOW_MS, requests on that axis are refused
 * with 429 before their token is even checked — a correct guess included, so guessing gains nothing.
 * The request rate limit (which counts every request) runs before this one.
 *
 * Keys hold a hash of the prefix, never token characters.
 */
@Injectable()
export class AuthFailureLimiter {
  private limiter: FixedWindowLimiter | undefined;

  constructor(
    private readonly redis: RedisConnection,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** Refuses (429) when the address or the token's prefix has failed too often. */
  async check(address: string, token: string | undefined): Promise<void> {
    const { authFailures, authFailureWindowMs } = this.config.rateLimit;
    const states = await Promise.all(
      this.keys(address, token).map((key) => this.counters.peek(key, authFailures, authFailureWindowMs)),
    );
    const blocked = states.filter((s) => !s.allowed);
    if (blocked.length === 0) return;
    const resetAt = Math.max(...blocked.map((s) => s.resetAt));
    throw new AuthError(
      'too_many_failures',
      'Too many failed authentications; retry after the number of seconds in Retry-After.',
      { retryAfter: Math.max(1, Math.ceil((resetAt - Date.now()) / 1000)) },
    );
  }

  /** Counts a refused token against its address and its prefix. */
  async failed(address: string, token: string | undefined): Promise<void> {
    const { authFailures, authFailureWindowMs } = this.config.rateLimit;
    await Promise.all(
      this.keys(address, token).map((key) => this.counters.hit(key, authFailures, authFailureWindowMs)),
    );
  }

  private get counters(): FixedWindowLimiter {
    this.limiter ??= new FixedWindowLimiter(this.redis.redis);
    return this.limiter;
  }

  private keys(address: string, token: string | undefined): string[] {
    const keys = [this.redis.key('auth-failures', 'address', address)];
    if (token !== undefined && token.length > 0) {
      const prefix = createHash('sha256').update(token.slice(0, TOKEN_PREFIX_LENGTH)).digest('base64url');
      keys.push(this.redis.key('auth-failures', 'token', prefix.slice(0, 22)));
    }
    return keys;
  }
}
