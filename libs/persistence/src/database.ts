import { userInfo } from 'node:os';
import { Client } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { TownhallConfig } from '@townhall/core';
import { APP_ROLE_SETTING, PLATFORM_MIGRATIONS } from './migrations/platform';

/**
 * The one DataSource of a process: one pool, shared by the platform and every tenant schema. Each
 * connection assumes the application role (`TOWNHALL_DATABASE_APP_ROLE`) as it starts, so the
 * application works with that role's privileges — among them, none to change the audit log.
 */
export function dataSourceOptions(config: Pick<TownhallConfig, 'database'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: withDefaultUser(config.database.url),
    schema: 'platform',
    migrations: PLATFORM_MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: {
      max: config.database.poolSize,
      application_name: 'townhall',
      ...roleSwitch(config.database.appRole),
    },
  };
}

/** The pg connection setting that makes a connection assume `role` as it starts. */
function roleSwitch(role: string | null): { options?: string } {
  return role ? { options: `-c role=${role}` } : {};
}

/**
 * Why the application's connections would not run as the application role, or null if they do. A
 * connection pooler that drops startup options (PgBouncer does) would leave them running as the
 * owner, with the owner's privileges over the audit log, and nothing else would notice.
 */
export async function applicationRoleProblem(
  config: Pick<TownhallConfig, 'database'>,
): Promise<string | null> {
  const role = config.database.appRole;
  if (!role) return null;
  const client = new Client({ connectionString: withDefaultUser(config.database.url), ...roleSwitch(role) });
  try {
    await client.connect();
    const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
    if (rows[0].user === role) return null;
    return `connections run as "${rows[0].user}", not as the application role "${role}": does a pooler drop startup options? (TOWNHALL_DATABASE_APP_ROLE)`;
  } catch (err) {
    // At connection start an unknown role is an invalid value of the `role` setting.
    const code = (err as { code?: string }).code;
    if (code === '22023' || code === '42704') {
      return `the application role "${role}" does not exist: start once with migrations, or set TOWNHALL_DATABASE_APP_ROLE=off`;
    }
    if (code === '42501') {
      return `the DATABASE_URL user may not switch to the application role "${role}": it must be a member of it`;
    }
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The DataSource that applies platform migrations: the login role of DATABASE_URL itself (the owner of
 * the schema, no role switch), telling the migrations which role the application assumes.
 */
export function migrationDataSourceOptions(config: Pick<TownhallConfig, 'database'>): DataSourceOptions {
  return {
    ...dataSourceOptions(config),
    extra: {
      max: 2,
      application_name: 'townhall-migrations',
      options: `-c ${APP_ROLE_SETTING}=${config.database.appRole ?? ''}`,
    },
  };
}

/**
 * Creates the database named in `url` if it does not exist (when the role may), and the `platform`
 * schema inside it, so a fresh machine needs no manual setup.
 */
export async function ensureDatabase(rawUrl: string): Promise<void> {
  const url = withDefaultUser(rawUrl);
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((e: { code?: string }) => {
        // 42P04: exists; 23505: another process created it between our check and our CREATE.
        if (e.code !== '42P04' && e.code !== '23505') throw e;
      });
    }
  } finally {
    await client.end();
  }
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    await db.query('CREATE SCHEMA IF NOT EXISTS platform').catch((e: { code?: string }) => {
      if (e.code !== '23505' && e.code !== '42P06') throw e; // created meanwhile by another process
    });
  } finally {
    await db.end();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Like libpq, a URL without a user name connects as the operating-system user. */
export function withDefaultUser(url: string): string {
  const u = new URL(url);
  if (u.username) return url;
  u.username = process.env.PGUSER ?? userInfo().username;
  return u.toString();
}
