/**
 * The names a jest run gives what it makes outside itself — databases, roles, Redis keys — so that the
 * global teardown can tell what this run left behind from what other runs on the same machine are still
 * using. No imports of the platform: the global setup and teardown load this without jest's module map.
 */

/** Set by the global setup; every worker inherits it. */
export const TEST_RUN_VARIABLE = 'TOWNHALL_TEST_RUN';

export const TEST_DATABASE_PREFIX = 'townhall_test_';

/** This jest run's id (a run without the global setup uses the process id). */
export function testRun(): string {
  return process.env[TEST_RUN_VARIABLE] ?? `p${process.pid}`;
}

/** `townhall_test_<run>_`: the start of the name of every database this run makes. */
export function runDatabasePrefix(run = testRun()): string {
  return `${TEST_DATABASE_PREFIX}${run}_`;
}

/** The Redis key prefix of the processes on a test database. */
export function testRedisPrefix(database: string): string {
  return `th_test_${database}`;
}

/** `th_test_townhall_test_<run>_`: the start of every Redis key this run's tests make. */
export function runRedisPrefix(run = testRun()): string {
  return testRedisPrefix(runDatabasePrefix(run));
}
