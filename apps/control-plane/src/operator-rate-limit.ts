import { Inject, Injectable, Provider } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModuleOptions, ThrottlerStorage } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';

const OPERATOR_RATE_LIMIT_OPTIONS = Symbol('OPERATOR_RATE_LIMIT_OPTIONS');
const OPERATOR_RATE_LIMIT_STORAGE = Symbol('OPERATOR_RATE_LIMIT_STORAGE');

/**
 * Rate limit of the operator API: config.rateLimit requests per window per client address, counted in
 * Redis so every control-plane process shares one budget. It runs before authentication, so guessing
 * tokens is limited too. Its options and storage are provided under this module's own tokens rather than
 * through the global ThrottlerModule, so other apps in the all-in-one process can have limits of their own.
 */
@Injectable()
export class OperatorRateLimitGuard extends ThrottlerGuard {
  constructor(
    @Inject(OPERATOR_RATE_LIMIT_OPTIONS) options: ThrottlerModuleOptions,
    @Inject(OPERATOR_RATE_LIMIT_STORAGE) storage: ThrottlerStorage,
    reflector: Reflector,
  ) {
    super(options, storage, reflector);
  }
}

export const OPERATOR_RATE_LIMIT_PROVIDERS: Provider[] = [
  {
    provide: OPERATOR_RATE_LIMIT_OPTIONS,
    inject: [TOWNHALL_CONFIG],
    useFactory: (config: TownhallConfig): ThrottlerModuleOptions => ({
      // Named "default" so the headers are plain Retry-After / X-RateLimit-*.
      throttlers: [{ name: 'default', limit: config.rateLimit.limit, ttl: config.rateLimit.ttlMs }],
      // One budget across all endpoints, not one per route.
      generateKey: (_context, tracker) => `operator-api:${tracker}`,
      errorMessage:
        'Too many requests to the operator API; retry after the number of seconds in Retry-After.',
    }),
  },
  {
    provide: OPERATOR_RATE_LIMIT_STORAGE,
    inject: [TOWNHALL_CONFIG],
    // The service owns this connection and closes it on module destroy.
    useFactory: (config: TownhallConfig) =>
      new ThrottlerStorageRedisService(config.redis.url, {
        keyPrefix: `${config.redis.keyPrefix}:rate-limit:`,
        maxRetriesPerRequest: 2,
        connectTimeout: 3000,
      }),
  },
];
