import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig, TownhallConfig } from '@townhall/core';
import {
  dataSourceOptions,
  ensureDatabase,
  migrationDataSourceOptions,
  quoteIdent,
  withDefaultUser,
} from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { removeRedisKeys } from './redis';
import { runDatabasePrefix, testRedisPrefix } from './test-run';

/** The machine's PostgreSQL as a role that may create databases and roles. */
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://127.0.0.1:5432/postgres';

/**
 * The application role of a test database: roles belong to the whole cluster, and Townhall refuses a
 * role it did not create for the database at hand, so every test database has one of its own, dropped
 * with it (`dropDatabase`).
 */
export function testApplicationRole(database: string): string {
  return `${database}_app`;
}

export interface TestDatabaseOptions {
  /**
   * `template` (the default): a copy of the migrated template (`templateDatabase`), so the first start
   * finds the platform migrations applied and only sets up the application role and the secret key's
   * check value. `empty`: a database with an empty `platform` schema, as a first installation finds it,
   * for tests of the migrations themselves.
   */
  from?: 'template' | 'empty';
}

/**
 * Every test file gets a database of its own on the machine's real PostgreSQL, with an application
 * role of its own and a Redis key prefix of its own, so files can run in parallel and leave nothing
 * behind: `drop` removes the database, the role and every Redis key under the prefix (queues, rate-limit
 * counters). Returns a validated config pointing at it, and its name.
 */
export async function createTestDatabase(
  env: Record<string, string> = {},
  options: TestDatabaseOptions = {},
): Promise<{ config: TownhallConfig; drop: () => Promise<void>; name: string }> {
  const name = testDatabaseName();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  if ((options.from ?? 'template') === 'template') await cloneTemplate(name);
  else await ensureDatabase(url.toString());
  const config = testConfig(name, url, env);
  const drop = async (): Promise<void> => {
    await removeRedisKeys(config);
    await dropDatabase(name);
  };
  return { config, drop, name };
}

/**
 * The platform migrations applied to a database that test databases are copied from (`CREATE DATABASE
 * … TEMPLATE`): a copy takes a fraction of what migrating takes. Made once per migration set — its name
 * carries a hash of the persistence library's sources (where the migrations and what they run live) and
 * of TypeORM's version — and kept for later runs. It is migrated without an application role: each copy
 * gets its own at its first start, as an installation that turns the role on later does.
 *
 * PostgreSQL copies a template only while no one is connected to it: the template takes no connections
 * once made (`ALLOW_CONNECTIONS false`), and copying holds a shared advisory lock that making one holds
 * exclusively (on the `postgres` database, so every test process on the machine agrees).
 */
export async function templateDatabase(): Promise<string> {
  const name = templateName();
  const admin = await adminClient();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      if (!(await databaseExists(admin, name))) await buildTemplate(admin, name);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
  } finally {
    await admin.end();
  }
  return name;
}

/** Advisory lock key of the templates (on the `postgres` database): shared to copy, exclusive to make. */
const TEMPLATE_LOCK = 0x7468_7470; // "thtp"
const TEMPLATE_PREFIX = 'townhall_template_';
/** Templates of other migration sets kept (other branches may be testing on this server). */
const OTHER_TEMPLATES_KEPT = 3;

let templateNameMemo: string | undefined;

function templateName(): string {
  if (templateNameMemo) return templateNameMemo;
  // The repository (test/support, or dist/test/support when built).
  const root = join(__dirname, '..', '..').replace(/\/dist$/, '');
  const hash = createHash('sha256');
  const sources = join(root, 'libs', 'persistence', 'src');
  for (const file of sourceFiles(sources)) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  const typeorm = JSON.parse(readFileSync(join(root, 'node_modules', 'typeorm', 'package.json'), 'utf8')) as {
    version: string;
  };
  hash.update(`typeorm ${typeorm.version}`);
  templateNameMemo = `${TEMPLATE_PREFIX}${hash.digest('hex').slice(0, 16)}`;
  return templateNameMemo;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return /\.ts$/.test(entry.name) && !/\.spec\.ts$/.test(entry.name) ? [path] : [];
    });
}

async function cloneTemplate(name: string): Promise<void> {
  const template = templateName();
  const admin = await adminClient();
  try {
    for (let attempt = 1; ; attempt++) {
      await admin.query('SELECT pg_advisory_lock_shared($1)', [TEMPLATE_LOCK]);
      try {
        if (await databaseExists(admin, template)) {
          await admin.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
          return;
        }
      } catch (err) {
        // 55006: someone is connected to the template (autovacuum, say); PostgreSQL waited 5 s already.
        if ((err as { code?: string }).code !== '55006' || attempt >= 3) throw err;
        continue;
      } finally {
        await admin.query('SELECT pg_advisory_unlock_shared($1)', [TEMPLATE_LOCK]);
      }
      await templateDatabase();
    }
  } finally {
    await admin.end();
  }
}

/** Makes the template under the exclusive lock: migrated under another name, renamed when complete. */
async function buildTemplate(admin: Client, name: string): Promise<void> {
  const building = `${name}_partial`;
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(building)} WITH (FORCE)`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${building}`;
  await ensureDatabase(url.toString());
  const config = testConfig(building, url, { TOWNHALL_DATABASE_APP_ROLE: 'off' });
  const ds = new DataSource(migrationDataSourceOptions(config));
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
    // Nothing left for autovacuum to visit, which would hold a connection a copy has to wait for.
    await ds.query('VACUUM (FREEZE, ANALYZE)');
  } finally {
    await ds.destroy();
  }
  await admin.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`);
  await admin.query(`ALTER DATABASE ${quoteIdent(name)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  // Templates of older migration sets: the newest few stay, for other branches testing here.
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2 ORDER BY oid DESC OFFSET $3`,
    [`${TEMPLATE_PREFIX}%`, name, OTHER_TEMPLATES_KEPT],
  );
  for (const { datname } of rows) {
    await admin.query(`ALTER DATABASE ${quoteIdent(datname)} WITH IS_TEMPLATE false`);
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
  }
}

async function databaseExists(admin: Client, name: string): Promise<boolean> {
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rowCount === 1;
}

async function adminClient(): Promise<Client> {
  const client = new Client({ connectionString: withDefaultUser(ADMIN_URL) });
  await client.connect();
  return client;
}

/**
 * Like `createTestDatabase`, but the owner (DATABASE_URL's user) is a login of its own that is no
 * superuser, only CREATEROLE and CREATEDB, as in production; the database is left to Townhall's first
 * start to create. `password` goes into DATABASE_URL. `drop` removes the Redis keys, the database, its
 * application role and the owner.
 */
export async function createTestDatabaseWithOwner(
  env: Record<string, string> = {},
  password = '',
): Promise<{ config: TownhallConfig; drop: () => Promise<void>; name: string; owner: string }> {
  const name = testDatabaseName();
  const owner = `${name}_owner`;
  const admin = await adminClient();
  try {
    await admin.query(`CREATE ROLE ${quoteIdent(owner)} LOGIN CREATEROLE CREATEDB`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  [url.username, url.password, url.pathname] = [owner, password, `/${name}`];
  const config = testConfig(name, url, env);
  const drop = async (): Promise<void> => {
    await removeRedisKeys(config);
    await dropDatabase(name);
    const cleanup = await adminClient();
    try {
      await cleanup.query(`DROP ROLE IF EXISTS ${quoteIdent(owner)}`);
    } finally {
      await cleanup.end();
    }
  };
  return { config, drop, name, owner };
}

/** `townhall_test_<run>_<random>` (see test-run.ts). */
function testDatabaseName(): string {
  return `${runDatabasePrefix()}${randomBytes(4).toString('hex')}`;
}

function testConfig(name: string, url: URL, env: Record<string, string>): TownhallConfig {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    TOWNHALL_REDIS_PREFIX: testRedisPrefix(name),
    TOWNHALL_SECRET_KEY: randomBytes(32).toString('base64'),
    TOWNHALL_PUBLIC_SCHEME: 'http',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Tests that are not about the key pool should not spend CPU filling one.
    TOWNHALL_ACTOR_KEY_POOL: '0',
    TOWNHALL_DATABASE_APP_ROLE: testApplicationRole(name),
    TOWNHALL_MEDIA_ROOT: testMediaRoot(name),
    ...env,
  });
}

/** Where a test database's tenants keep uploaded media: a folder of its own, removed with it. */
export function testMediaRoot(database: string): string {
  return join(tmpdir(), `${database}_media`);
}

/** Drops a test database, its application role (`testApplicationRole`) and its media folder. */
export async function dropDatabase(name: string): Promise<void> {
  rmSync(testMediaRoot(name), { recursive: true, force: true });
  const admin = await adminClient();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    // After the database: its grants and the schemas the role owned went with it.
    await admin.query(`DROP ROLE IF EXISTS ${quoteIdent(testApplicationRole(name))}`);
  } finally {
    await admin.end();
  }
}

/**
 * The application's DataSource (logged in as the application role) on the migrated test database, for
 * tests below the Nest layer.
 */
export async function migratedDataSource(
  config: TownhallConfig,
  extra: Record<string, unknown> = {},
): Promise<DataSource> {
  await preparePlatform(config, { migrate: true });
  const options = dataSourceOptions(config);
  const ds = new DataSource({ ...options, extra: { ...(options.extra as object), ...extra }, entities: [] });
  await ds.initialize();
  return ds;
}
