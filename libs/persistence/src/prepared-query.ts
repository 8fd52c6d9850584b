import { createHash } from 'node:crypto';
import type { ClientBase } from 'pg';
import type { EntityManager } from 'typeorm';

const names = new Map<string, string>();

/** A statement's name: the same text has the same name on every connection, another text another. */
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `th_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * Runs a read that every request of a hot path makes as a named prepared statement on the
 * transaction's connection: PostgreSQL parses and plans it once per connection and then, once a
 * generic plan proves as good, not at all — planning cost more than executing the home timeline's
 * statements. Only for statements whose text is fixed (a bounded set of names per connection), with
 * parameters.
 *
 * Tenant safety: statements name tables without a schema, and PostgreSQL re-analyses and re-plans a
 * prepared statement when it runs under another `search_path` than it was planned for, so a
 * connection that served tenant A answers tenant B's transaction from B's tables (tested in
 * tenant-isolation.test.ts). Behind PgBouncer in transaction mode, prepared statements need PgBouncer
 * 1.21 or later with `max_prepared_statements` set, or DATABASE_PREPARED_STATEMENTS=false.
 */
export async function preparedQuery<T>(m: EntityManager, text: string, values: unknown[]): Promise<T[]> {
  const runner = m.queryRunner;
  // DATABASE_PREPARED_STATEMENTS, as the DataSource was made with it (dataSourceOptions).
  const extra = (m.connection?.options as { extra?: { preparedStatements?: boolean } } | undefined)?.extra;
  if (extra?.preparedStatements === false || !runner?.isTransactionActive) {
    return (await m.query(text, values)) as T[];
  }
  const client = (await runner.connect()) as ClientBase;
  const result = await client.query({ name: statementName(text), text, values });
  return result.rows as T[];
}
