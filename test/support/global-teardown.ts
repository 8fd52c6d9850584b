import { userInfo } from 'node:os';
import Redis from 'ioredis';
import { Client } from 'pg';
import { runDatabasePrefix, runRedisPrefix, TEST_RUN_VARIABLE } from './test-run';

/** A server that is not there (a unit-spec run on a machine without one): nothing can be left on it. */
function nothingAnswers(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'ECONNREFUSED' || (err instanceof AggregateError && err.errors.some(nothingAnswers));
}

/**
 * Fails the run if its tests left anything behind — Redis keys under the run's prefix (queues, rate-limit
 * counters), databases or roles named for the run — after removing it, so the next run starts clean.
 * Each test file's teardown is meant to remove what the file made (`createTestDatabase`'s `drop`).
 */
export default async function globalTeardown(): Promise<void> {
  const run = process.env[TEST_RUN_VARIABLE];
  if (!run) return;
  const left = [
    ...(await leftInRedis(runRedisPrefix(run))),
    ...(await leftInPostgres(runDatabasePrefix(run))),
  ];
  if (left.length > 0) {
    const shown = left.slice(0, 20).map((l) => `  ${l}`);
    if (left.length > shown.length) shown.push(`  … and ${left.length - shown.length} more`);
    throw new Error(
      `The tests left ${left.length} thing(s) behind (now removed); the test file that made them must remove them in its teardown:\n${shown.join('\n')}`,
    );
  }
}

async function leftInRedis(prefix: string): Promise<string[]> {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    if (nothingAnswers(err)) return []; // nothing can have been left where nothing answers
    throw err;
  }
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 }))
      keys.push(...(batch as string[]));
    if (keys.length > 0) await redis.del(...keys);
    return keys.sort().map((k) => `Redis key ${k}`);
  } finally {
    redis.disconnect();
  }
}

async function leftInPostgres(prefix: string): Promise<string[]> {
  // As test/support/database.ts's ADMIN_URL, with the operating-system user when it names none.
  const url = new URL(process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://127.0.0.1:5432/postgres');
  if (!url.username) url.username = userInfo().username;
  const admin = new Client({ connectionString: url.toString() });
  try {
    await admin.connect();
  } catch (err) {
    if (nothingAnswers(err)) return [];
    throw err;
  }
  try {
    const databases = (
      await admin.query<{ name: string }>(
        `SELECT datname AS name FROM pg_database WHERE left(datname, length($1)) = $1 ORDER BY 1`,
        [prefix],
      )
    ).rows.map((r) => r.name);
    for (const name of databases)
      await admin.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
    const roles = (
      await admin.query<{ name: string }>(
        `SELECT rolname AS name FROM pg_roles WHERE left(rolname, length($1)) = $1 ORDER BY 1`,
        [prefix],
      )
    ).rows.map((r) => r.name);
    for (const name of roles) await admin.query(`DROP ROLE IF EXISTS "${name.replace(/"/g, '""')}"`);
    return [...databases.map((d) => `database ${d}`), ...roles.map((r) => `role ${r}`)];
  } finally {
    await admin.end();
  }
}
