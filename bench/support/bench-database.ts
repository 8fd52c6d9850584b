import { Client } from 'pg';
import { quoteIdent, withDefaultUser } from '@townhall/persistence';

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://127.0.0.1:5432/townhall_bench';

export interface BenchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database for one bench run: dropped if it exists, then created. Only a database whose
 * name contains "bench" is ever dropped, so a mistyped BENCH_DATABASE_URL cannot destroy real data.
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
  await run(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await run(`CREATE DATABASE ${quoteIdent(name)}`);
  return { url, name, drop: () => run(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`) };
}
