import { TenantEntity, TenantRegistry } from '@townhall/tenancy';

/** Polls the registry until the tenant reaches one of `statuses`, or fails after `timeoutMs`. */
export async function waitForTenantStatus(
  registry: TenantRegistry,
  tenantId: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<TenantEntity> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const tenant = await registry.findById(tenantId);
    if (tenant && statuses.includes(tenant.status)) return tenant;
    if (Date.now() > deadline) {
      throw new Error(
        `Tenant ${tenantId} is ${tenant?.status ?? 'missing'} after ${timeoutMs} ms; expected ${statuses.join('|')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
