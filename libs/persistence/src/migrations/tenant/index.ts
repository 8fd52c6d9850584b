import { accounts } from './0001-accounts';
import { social } from './0002-social';
import { searchTags } from './0003-search-tags';
import { feedsDomainBlocks } from './0004-feeds-domain-blocks';
import type { TenantMigration } from './tenant-migration';

export type { TenantMigration } from './tenant-migration';
export { ACCOUNT_SEARCH_WORDS } from './0003-search-tags';

/** Every tenant schema's history, oldest first. Append only. */
export const TENANT_MIGRATIONS: readonly TenantMigration[] = [accounts, social, searchTags, feedsDomainBlocks];

export const LATEST_TENANT_VERSION = TENANT_MIGRATIONS[TENANT_MIGRATIONS.length - 1].version;

/** The bookkeeping table each tenant schema keeps of its own applied versions. */
export const TENANT_VERSION_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export function assertMigrationSetIsValid(set: readonly TenantMigration[] = TENANT_MIGRATIONS): void {
  set.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`Tenant migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
}
