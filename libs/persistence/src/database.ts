import { createHmac, randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { Client } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { TownhallConfig } from '@townhall/core';
import { type ApplicationLogin, loginProblem, sessionLoginFacts } from './application-role';
import { APP_LOGIN_SETTING, APP_ROLE_SETTING, PLATFORM_MIGRATIONS } from './migrations/platform';
import { isLoginRefused } from './sql-state';

type DatabaseConfig = Pick<TownhallConfig, 'database'>;

/**
 * This process's mark on every database session it opens (`application_name` is `townhall/<mark>`,
 * `townhall-audit/<mark>`, …), so that a session can be told from other Townhall processes' — key
 * rotation refuses to run while another process is connected.
 */
export const PROCESS_SESSION_MARK = randomBytes(4).toString('hex');

/** The `application_name` of this process's sessions of one kind (`townhall`, `townhall-audit`, …). */
export function sessionName(kind: string): string {
  return `${kind}/${PROCESS_SESSION_MARK}`;
}

/** The platform migrations: applied by the owner, compared with the history by readiness checks. */
const MIGRATIONS = {
  migrations: PLATFORM_MIGRATIONS,
  migrationsTableName: 'migrations',
  migrationsTransactionMode: 'each',
} as const;

/**
 * The one DataSource of a process for the application: one pool, shared by the platform and every
 * tenant schema, logged in as the application role (`TOWNHALL_DATABASE_APP_ROLE`) itself. It works with
 * that role's privileges — among them, none to change the audit log — and `SET ROLE NONE` or
 * `RESET ROLE` only bring it back to itself.
 */
export function dataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: applicationDatabaseUrl(config),
    schema: 'platform',
    ...MIGRATIONS,
    synchronize: false,
    logging: false,
    extra: {
      max: config.database.poolSize,
      // Bounds each connection's catalog cache, which grows with every tenant schema it touches
      // (docs/architecture.md, Tenancy); 0 means no limit.
      ...(config.database.poolMaxUses > 0 ? { maxUses: config.database.poolMaxUses } : {}),
      maxLifetimeSeconds: 3600,
      application_name: sessionName('townhall'),
      // Read by preparedQuery, not by pg.
      preparedStatements: config.database.preparedStatements,
    },
  };
}

/**
 * A DataSource logged in as the owner (DATABASE_URL's user): for platform migrations and the audit
 * log's writer. Its search_path holds only `platform` and `pg_catalog`, so a schema the application role
 * creates — named like the owner (`"$user"`) or `public` — can never capture the owner's unqualified
 * names. It tells the migrations which role the application logs in as, and whose login that is.
 */
export function ownerDataSourceOptions(
  config: DatabaseConfig,
  pool: { name: string; max: number },
): DataSourceOptions {
  return {
    type: 'postgres',
    url: withDefaultUser(config.database.url),
    schema: 'platform',
    ...MIGRATIONS,
    synchronize: false,
    logging: false,
    extra: {
      max: pool.max,
      application_name: sessionName(pool.name),
      options:
        `-c search_path=platform,pg_catalog -c ${APP_ROLE_SETTING}=${config.database.appRole ?? ''} ` +
        `-c ${APP_LOGIN_SETTING}=${applicationLogin(config)}`,
    },
  };
}

/** Whether the application's login is the operator's own (DATABASE_APP_URL) or derived by Townhall. */
export function applicationLogin(config: DatabaseConfig): ApplicationLogin {
  return config.database.appUrl ? 'operator' : 'derived';
}

/** The DataSource that applies platform migrations, as the owner. */
export function migrationDataSourceOptions(config: DatabaseConfig): DataSourceOptions {
  return ownerDataSourceOptions(config, { name: 'townhall-migrations', max: 2 });
}

/**
 * The application's login: DATABASE_APP_URL when the operator gives it; else DATABASE_URL with the
 * application role as user and, when DATABASE_URL carries a password, the password derived from it
 * (`derivedApplicationPassword`), which the owner sets on the role at start; with the role off,
 * DATABASE_URL itself.
 */
export function applicationDatabaseUrl(config: DatabaseConfig): string {
  const { url, appUrl, appRole } = config.database;
  if (appRole === null) return withDefaultUser(url);
  if (appUrl) return appUrl;
  const derived = new URL(url);
  derived.username = appRole;
  derived.password = derivedApplicationPassword(config) ?? '';
  return derived.toString();
}

/**
 * The password the owner gives the application role, or null when it sets none: when the operator
 * manages the role's login (DATABASE_APP_URL), when the role is off, or when DATABASE_URL has no
 * password (trust authentication admits the role as it admits the owner). Derived from the owner's password, so every process computes the same one and nothing new
 * has to be kept anywhere; the owner's password cannot be recovered from it.
 */
export function derivedApplicationPassword(config: DatabaseConfig): string | null {
  const { url, appUrl, appRole } = config.database;
  const ownerPassword = decodeURIComponent(new URL(url).password);
  if (appRole === null || appUrl || ownerPassword === '') return null;
  // Bound to the database and the role: deployments sharing a cluster get different passwords.
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  return createHmac('sha256', ownerPassword)
    .update(`townhall-database-app-role\n${database}\n${appRole}`)
    .digest('base64url');
}

/**
 * Why the application's login is not a separate, lesser role than the owner, or null if it is (or
 * the role is off). Checks what the application would actually log in as — DATABASE_APP_URL, a
 * pooler's user mapping — not what the configuration says.
 */
export async function applicationRoleProblem(config: DatabaseConfig): Promise<string | null> {
  const role = config.database.appRole;
  if (!role) return null;
  const owner = new URL(withDefaultUser(config.database.url)).username;
  const client = new Client({ connectionString: applicationDatabaseUrl(config) });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const me = await sessionLoginFacts(client, owner);
    const problem = loginProblem(me, owner);
    if (problem) return problem;
    if (me.user !== role) {
      return `the application logs in as "${me.user}", not as the application role "${role}": does a pooler map users?`;
    }
    return null;
  } catch (err) {
    if (isLoginRefused(err)) {
      return `the application role "${role}" cannot log in (${(err as Error).message}): start once with migrations, set DATABASE_APP_URL, or set TOWNHALL_DATABASE_APP_ROLE=off`;
    }
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
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
