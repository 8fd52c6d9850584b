import type { INestApplicationContext } from '@nestjs/common';
import { ProvisioningError } from '@townhall/provisioning';
import { tenantRef, type TenantRef } from '@townhall/tenancy';
import { findTenant } from '../tenant-view';

/**
 * The tenant a command about its accounts names, with its primary domain; only an active or suspended
 * tenant has accounts to act on.
 */
export async function tenantForAccounts(
  context: INestApplicationContext,
  reference: string,
): Promise<{ ref: TenantRef; primaryDomain: string }> {
  const tenant = await findTenant(context, reference);
  if (tenant.status !== 'active' && tenant.status !== 'suspended') {
    throw new ProvisioningError(
      'invalid_transition',
      `The tenant is ${tenant.status}; its accounts can be managed once it is active.`,
    );
  }
  const primaryDomain = tenant.domains?.find((d) => d.isPrimary)?.domain ?? tenant.domains?.[0]?.domain;
  if (!primaryDomain) throw new ProvisioningError('tenant_not_found', 'The tenant has no domain.');
  return { ref: tenantRef(tenant, primaryDomain), primaryDomain };
}
