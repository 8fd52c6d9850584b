import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { checkRedis } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { ADMIN_URL, createTestDatabase } from '../support/database';
import { freePort } from '../support/processes';
import { waitFor } from '../support/wait';

const MAIN = join(__dirname, '../../dist/apps/townhall/src/main.js');

/** Starts the all-in-one process with `env` and returns how it ended; it must end by itself. */
function start(env: Record<string, string>): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: run.status, stderr: run.stderr };
}

/**
 * A process that cannot work says why in one line per problem and exits, before it touches anything:
 * bad settings, no Redis, or a Redis that would evict queued jobs.
 */
describe('start-up checks', () => {
  let evicting: ChildProcess | undefined;
  let evictingUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    evicting = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      {
        stdio: 'ignore',
      },
    );
    evictingUrl = `redis://127.0.0.1:${port}`;
    await waitFor(
      () =>
        spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG',
      { timeoutMs: 10_000, intervalMs: 100, what: 'the evicting Redis to start' },
    );
  });

  afterAll(async () => {
    // Until it has exited, the child keeps this worker process alive.
    if (evicting && evicting.exitCode === null && evicting.signalCode === null) {
      const exited = new Promise((resolve) => evicting!.once('exit', resolve));
      evicting.kill('SIGTERM');
      await exited;
    }
  });

  it('lists each configuration problem on its own line and exits 1', () => {
    const { status, stderr } = start({ PORT: 'eighty', TOWNHALL_PUBLIC_SCHEME: 'ftp' });
    expect(status).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      '[townhall] cannot start:',
      expect.stringMatching(/^ {2}- TOWNHALL_PUBLIC_SCHEME must be http or https \(got "ftp"\)$/),
      expect.stringMatching(/^ {2}- PORT must be an integer between 0 and 65535 \(got "eighty"\)$/),
    ]);
  });

  it('explains how to get a Redis when none answers', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const { status, stderr } = start({ REDIS_URL: url, DATABASE_URL: 'postgres://127.0.0.1:5432/postgres' });
    expect(status).toBe(1);
    expect(stderr).toContain(`Redis at ${url}`);
    expect(stderr).toContain('is not reachable');
    expect(stderr).toMatch(/redis-server --daemonize yes/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('names DATABASE_URL, without its password, when PostgreSQL cannot be reached or refuses the login', async () => {
    const port = await freePort();
    const unreachable = start({ DATABASE_URL: `postgres://townhall:s3cret-pw@127.0.0.1:${port}/townhall` });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain(
      `PostgreSQL at postgres://townhall:***@127.0.0.1:${port}/townhall (DATABASE_URL) is not reachable`,
    );
    expect(unreachable.stderr).not.toContain('s3cret-pw');
    expect(unreachable.stderr).not.toMatch(/\n\s+at /);
    const refused = start({ DATABASE_URL: 'postgres://no_such_role_here@127.0.0.1:5432/postgres' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(
      /PostgreSQL at postgres:\/\/no_such_role_here@127\.0\.0\.1:5432\/postgres \(DATABASE_URL\) refused the login/,
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a Redis whose maxmemory-policy evicts keys', async () => {
    expect(await checkRedis(evictingUrl)).toEqual([
      expect.stringMatching(/maxmemory-policy "allkeys-lru", which evicts keys/),
    ]);
    const { status, stderr } = start({
      REDIS_URL: evictingUrl,
      DATABASE_URL: 'postgres://127.0.0.1:5432/postgres',
    });
    expect(status).toBe(1);
    expect(stderr).toMatch(/Set it to "noeviction"/);
  });

  it('refuses, in one line, to take over an existing role named as the application role', async () => {
    const { config, drop } = await createTestDatabase();
    const admin = new Client({ connectionString: withDefaultUser(ADMIN_URL) });
    await admin.connect();
    const victim = `th_victim_${process.pid}`;
    await admin.query(`CREATE ROLE ${victim} LOGIN SUPERUSER CREATEDB CREATEROLE INHERIT`);
    try {
      const { status, stderr } = start({
        PORT: '0',
        DATABASE_URL: config.database.url,
        REDIS_URL: config.redis.url,
        TOWNHALL_REDIS_PREFIX: config.redis.keyPrefix,
        TOWNHALL_SECRET_KEY: randomBytes(32).toString('base64'),
        TOWNHALL_DEMO: 'false',
        TOWNHALL_DATABASE_APP_ROLE: victim,
      });
      expect(status).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        '[townhall] cannot start:',
        `  - the application role "${victim}" already exists and Townhall did not create it for this database: ` +
          'choose another TOWNHALL_DATABASE_APP_ROLE, drop the role, or give its login in DATABASE_APP_URL',
      ]);
      const { rows } = await admin.query(
        `SELECT rolsuper, rolcreatedb, rolcreaterole, rolinherit FROM pg_roles WHERE rolname = $1`,
        [victim],
      );
      expect(rows).toEqual([{ rolsuper: true, rolcreatedb: true, rolcreaterole: true, rolinherit: true }]);
    } finally {
      // The database first: whatever a start may have granted the role goes with it.
      await drop();
      await admin.query(`DROP ROLE ${victim}`);
      await admin.end();
    }
  });

  it('refuses every evicting policy, volatile ones too, and accepts those that evict nothing', async () => {
    const port = new URL(evictingUrl).port;
    const policy = (p: string) =>
      spawnSync('redis-cli', ['-p', port, 'config', 'set', 'maxmemory-policy', p]);
    try {
      for (const evicting of [
        'allkeys-lfu',
        'allkeys-random',
        'volatile-lru',
        'volatile-lfu',
        'volatile-random',
        'volatile-ttl',
      ]) {
        policy(evicting);
        expect({ evicting, problems: await checkRedis(evictingUrl) }).toEqual({
          evicting,
          problems: [expect.stringContaining(`maxmemory-policy "${evicting}", which evicts keys`)],
        });
      }
      policy('noeviction');
      expect(await checkRedis(evictingUrl)).toEqual([]);
    } finally {
      policy('allkeys-lru');
    }
  });

  it('accepts the machine Redis (noeviction)', async () => {
    expect(await checkRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')).toEqual([]);
  });
});
