import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_DATABASE_URL, loadConfig, type TownhallConfig } from './config';
import { PlatformHosts } from './http/platform-site';

/**
 * The defaults in the README's table of settings, one row each: a default changed in the code without
 * the table (or the other way round) fails here.
 */
describe('the defaults the README documents', () => {
  const development = loadConfig({});

  it.each<[string, (c: TownhallConfig) => unknown, unknown]>([
    ['PORT', (c) => c.http.port, 3000],
    ['HOST', (c) => c.http.host, '127.0.0.1'],
    ['DATABASE_URL', (c) => c.database.url, DEFAULT_DATABASE_URL],
    ['DATABASE_POOL_SIZE', (c) => c.database.poolSize, 10],
    ['DATABASE_POOL_MAX_USES', (c) => c.database.poolMaxUses, 1000],
    ['DATABASE_PREPARED_STATEMENTS', (c) => c.database.preparedStatements, true],
    ['TOWNHALL_DATABASE_APP_ROLE', (c) => c.database.appRole, 'townhall_app'],
    ['DATABASE_APP_URL', (c) => c.database.appUrl, undefined],
    // None configured; `localhost` and IP literals are platform addresses whatever the setting (below).
    ['TOWNHALL_PLATFORM_HOSTS', (c) => c.platformHosts, []],
    ['TOWNHALL_TRUSTED_PROXIES', (c) => c.http.trustedProxies, []],
    ['TOWNHALL_OPS_PORT', (c) => c.http.opsPort, undefined],
    ['TOWNHALL_BODY_LIMIT_BYTES', (c) => c.http.bodyLimitBytes, 1_048_576],
    ['TOWNHALL_TENANT_RATE_LIMIT', (c) => c.tenantHttp.rateLimit, 300],
    ['TOWNHALL_TENANT_RATE_LIMIT_WINDOW_MS', (c) => c.tenantHttp.rateLimitWindowMs, 300_000],
    ['TOWNHALL_TENANT_CACHE_MS', (c) => c.tenantHttp.tenantCacheMs, 5000],
    ['TOWNHALL_USAGE_CACHE_MS', (c) => c.tenantHttp.usageCacheMs, 60_000],
    ['REDIS_URL', (c) => c.redis.url, 'redis://127.0.0.1:6379'],
    ['TOWNHALL_REDIS_PREFIX', (c) => c.redis.keyPrefix, 'townhall'],
    ['TOWNHALL_PUBLIC_SCHEME', (c) => c.publicUrl.scheme, 'https'],
    ['TOWNHALL_PUBLIC_PORT', (c) => c.publicUrl.port, undefined],
    ['TOWNHALL_OPERATOR_TOKEN', (c) => c.operatorToken, undefined],
    ['TOWNHALL_DEMO', (c) => c.demo.enabled, true],
    ['TOWNHALL_DEMO_DOMAIN', (c) => c.demo.domain, 'demo.localhost'],
    ['TOWNHALL_DATA_DIR', (c) => c.dataDir, resolve('var')],
    ['TOWNHALL_SCHEDULED_WORK_INTERVAL_MS', (c) => c.scheduledWork.intervalMs, 5000],
    ['TOWNHALL_MEDIA_ROOT', (c) => c.media.root, resolve('var', 'media')],
    ['TOWNHALL_WORKERS', (c) => c.provisioning.workers, true],
    [
      'TOWNHALL_PROVISIONING_CONCURRENCY',
      (c) => c.provisioning.concurrency,
      Math.min(4, availableParallelism()),
    ],
    ['TOWNHALL_INSECURE_FEDERATION', (c) => c.federation.insecure, false],
    ['TOWNHALL_FETCH_TIMEOUT_MS', (c) => c.federation.fetchTimeoutMs, 10_000],
    ['TOWNHALL_FETCH_MAX_BYTES', (c) => c.federation.fetchMaxBytes, 1_048_576],
    ['TOWNHALL_FETCH_MAX_REDIRECTS', (c) => c.federation.fetchMaxRedirects, 3],
    ['TOWNHALL_ACTOR_KEY_POOL', (c) => c.provisioning.keyPoolSize, 16],
    ['TOWNHALL_MIGRATION_CONCURRENCY', (c) => c.migrations.concurrency, 4],
    ['TOWNHALL_MIGRATION_LOCK_TIMEOUT_MS', (c) => c.migrations.lockTimeoutMs, 5000],
    ['TOWNHALL_AUDIT_ORIGIN', (c) => c.audit.origin, 'townhall/audit'],
    ['TOWNHALL_AUDIT_CHECKPOINT_ENTRIES', (c) => c.audit.checkpointEntries, 1000],
    ['TOWNHALL_AUDIT_CHECKPOINT_SECONDS', (c) => c.audit.checkpointSeconds, 60],
    ['TOWNHALL_AUDIT_WITNESSES', (c) => c.audit.witnesses, []],
    ['TOWNHALL_AUDIT_WITNESS_RETRY_MS', (c) => c.audit.witnessRetryMs, 5000],
    ['TOWNHALL_AUDIT_WITNESS_TIMEOUT_MS', (c) => c.audit.witnessTimeoutMs, 10_000],
    ['TOWNHALL_AUDIT_SIGNER_MODULE', (c) => c.audit.signerModule, undefined],
    ['TOWNHALL_RATE_LIMIT', (c) => c.rateLimit.limit, 300],
    ['TOWNHALL_RATE_LIMIT_WINDOW_MS', (c) => c.rateLimit.ttlMs, 60_000],
    ['TOWNHALL_AUTH_FAILURE_LIMIT', (c) => c.rateLimit.authFailures, 20],
    ['TOWNHALL_AUTH_FAILURE_WINDOW_MS', (c) => c.rateLimit.authFailureWindowMs, 900_000],
    ['TOWNHALL_QUEUE_LOCK_MS', (c) => c.queue.lockDurationMs, 30_000],
    ['TOWNHALL_QUEUE_STALLED_INTERVAL_MS', (c) => c.queue.stalledIntervalMs, 30_000],
    ['NODE_ENV', (c) => c.env, 'development'],
    ['LOG_LEVEL', (c) => c.log.level, 'info'],
    ['LOG_PRETTY', (c) => c.log.pretty, true],
  ])('%s', (_variable, read, expected) => {
    expect(read(development)).toEqual(expected);
  });

  it('turns the demo tenant and readable logs off in production, where a secret key is required', () => {
    const production = loadConfig({
      NODE_ENV: 'production',
      TOWNHALL_SECRET_KEY: Buffer.alloc(32).toString('base64'),
    });
    expect({ demo: production.demo.enabled, pretty: production.log.pretty }).toEqual({
      demo: false,
      pretty: false,
    });
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /TOWNHALL_SECRET_KEY is required in production/,
    );
  });

  it('keeps localhost a platform address beside the host names configured', () => {
    const hosts = new PlatformHosts(loadConfig({ TOWNHALL_PLATFORM_HOSTS: 'ops.social.example' }));
    expect(['localhost', 'ops.social.example', 'social.example'].map((h) => hosts.includes(h))).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('reads `off`, or an empty value, as one login for everything', () => {
    expect(loadConfig({ TOWNHALL_DATABASE_APP_ROLE: 'off' }).database.appRole).toBeNull();
    expect(loadConfig({ TOWNHALL_DATABASE_APP_ROLE: '' }).database.appRole).toBeNull();
  });
});
