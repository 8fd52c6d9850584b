import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig, TownhallConfig } from '@townhall/core';
import { dataSourceOptions, ensureDatabase, quoteIdent, withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';

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

/**
 * Every test file gets a database of its own on the machine's real PostgreSQL, with an application
 * role of its own, so files can run in parallel and leave nothing behind. Returns a validated config
 * pointing at it, and its name.
 */
export async function createTestDatabase(
  env: Record<string, string> = {},
): Promise<{ config: TownhallConfig; drop: () => Promise<void>; name: string }> {
  const name = testDatabaseName();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  return { config: testConfig(name, url, env), drop: () => dropDatabase(name), name };
}

/**
 * Like `createTestDatabase`, but the owner (DATABASE_URL's user) is a login of its own that is no
 * superuser, only CREATEROLE and CREATEDB, as in production; the database is left to Townhall's first
 * start to create. `password` goes into DATABASE_URL. `drop` removes the database, its application
 * role and the owner.
 */
export async function createTestDatabaseWithOwner(
  env: Record<string, string> = {},
  password = '',
): Promise<{ config: TownhallConfig; drop: () => Promise<void>; name: string; owner: string }> {
  const name = testDatabaseName();
  const owner = `${name}_owner`;
  const admin = new Client({ connectionString: withDefaultUser(ADMIN_URL) });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${quoteIdent(owner)} LOGIN CREATEROLE CREATEDB`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  [url.username, url.password, url.pathname] = [owner, password, `/${name}`];
  const drop = async (): Promise<void> => {
    await dropDatabase(name);
    const cleanup = new Client({ connectionString: withDefaultUser(ADMIN_URL) });
    await cleanup.connect();
    try {
      await cleanup.query(`DROP ROLE IF EXISTS ${quoteIdent(owner)}`);
    } finally {
      await cleanup.end();
    }
  };
  return { config: testConfig(name, url, env), drop, name, owner };
}

function testDatabaseName(): string {
  return `townhall_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

function testConfig(name: string, url: URL, env: Record<string, string>): TownhallConfig {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url.toString(),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    TOWNHALL_REDIS_PREFIX: `th_test_${name}`,
    TOWNHALL_SECRET_KEY: randomBytes(32).toString('base64'),
    TOWNHALL_PUBLIC_SCHEME: 'http',
    LOG_LEVEL: 'silent',
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
  const admin = new Client({ connectionString: withDefaultUser(ADMIN_URL) });
  await admin.connect();
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
