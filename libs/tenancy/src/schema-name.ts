import { isId } from '@townhall/persistence';

/** The one place a tenant schema is named. Ids are digits only, so the name never needs quoting. */
export function tenantSchemaName(tenantId: string): string {
  if (!isId(tenantId)) throw new Error(`Not a tenant id: ${tenantId}`);
  return `tenant_${tenantId}`;
}

export function isTenantSchemaName(name: string): boolean {
  return /^tenant_[1-9][0-9]{0,18}$/.test(name);
}
