import { userInfo } from 'node:os';
import { Client } from 'pg';
import type { DataSourceOptions } from 'typeorm';
import type { TownhallConfig } from '@townhall/core';
import { PLATFORM_MIGRATIONS } from './migrations/platform';

/** The one DataSource of a process: one pool, shared by the platform and every tenant schema. */
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
    extra: { max: config.database.poolSize, application_name: 'townhall' },
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
