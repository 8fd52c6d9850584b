import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig, TownhallConfig } from '@townhall/core';
import { quoteIdent, withDefaultUser } from '@townhall/persistence';

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://127.0.0.1:5432/townhall_bench';

export interface BenchDatabase {
  url: string;
  name: string;
  /** The application role of this database alone (Townhall refuses a role made for another one). */
  appRole: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one bench run, with an application role of its own: both dropped if they
 * exist, then the database created (the role is created by the first start). Only a database whose
 * name contains "bench" is ever dropped, and only its role, so a mistyped BENCH_DATABASE_URL cannot
 * destroy real data.
 */
export async function freshBenchDatabase(rawUrl: string): Promise<BenchDatabase> {
  const url = withDefaultUser(rawUrl);
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/bench/.test(name)) {
    throw new Error(`Refusing to drop and recreate "${name}": a bench database's name must contain "bench".`);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const run = async (sql: string) => {
    const client = new Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  const appRole = `${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_app`;
  const drop = async () => {
    await run(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await run(`DROP ROLE IF EXISTS ${quoteIdent(appRole)}`);
  };
  await drop();
  await run(`CREATE DATABASE ${quoteIdent(name)}`);
  return { url, name, appRole, drop };
}

/**
 * The configuration a scenario runs the product with: the environment, on the bench database, with its
 * own Redis key prefix and a fresh secret key, no demo tenant and quiet logs; `overrides` say the rest.
 */
export function benchConfig(db: BenchDatabase, overrides: Record<string, string>): TownhallConfig {
  return loadConfig({
    ...process.env,
    DATABASE_URL: db.url,
    TOWNHALL_DATABASE_APP_ROLE: db.appRole,
    TOWNHALL_SECRET_KEY: randomBytes(32).toString('base64'),
    TOWNHALL_DEMO: 'false',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    LOG_PRETTY: 'false',
    ...overrides,
  });
}
