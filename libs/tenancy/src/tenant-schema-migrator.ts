import type { EntityManager } from 'typeorm';
import { TENANT_MIGRATIONS, TENANT_VERSION_TABLE, TenantMigration } from '@townhall/persistence';
import { isTenantSchemaName } from './schema-name';

export interface SchemaMigrationResult {
  from: number;
  to: number;
  applied: string[];
}

/**
 * Brings one tenant schema up to date inside the caller's transaction. The caller has already begun a
 * transaction; this sets the search path locally, reads the schema's own version table, applies what is
 * missing in order, and records the new version in the registry — all or nothing.
 */
export async function migrateTenantSchema(
  manager: EntityManager,
  tenant: { id: string; schema: string },
  opts: { lockTimeoutMs?: number; migrations?: readonly TenantMigration[] } = {},
): Promise<SchemaMigrationResult> {
  if (!isTenantSchemaName(tenant.schema)) throw new Error(`Refusing unsafe schema name: ${tenant.schema}`);
  const migrations = opts.migrations ?? TENANT_MIGRATIONS;
  if (opts.lockTimeoutMs !== undefined) {
    await manager.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(opts.lockTimeoutMs))}`);
  }
  await manager.query(`SET LOCAL search_path TO ${tenant.schema}`);
  await manager.query(TENANT_VERSION_TABLE);
  const [{ version }] = (await manager.query(
    'SELECT coalesce(max(version), 0)::int AS version FROM schema_migrations',
  )) as [{ version: number }];
  const pending = migrations.filter((m) => m.version > version);
  for (const m of pending) {
    for (const statement of m.statements) await manager.query(statement);
    await manager.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
  }
  const to = pending.length ? pending[pending.length - 1].version : version;
  await manager.query(
    'UPDATE platform.tenants SET migration_version = $2, updated_at = now() WHERE id = $1',
    [tenant.id, to],
  );
  return { from: version, to, applied: pending.map((m) => `${m.version}_${m.name}`) };
}
