/** The Bull queue that runs tenant lifecycle work, and its typed jobs. Payloads carry only the tenant id. */
export const PROVISIONING_QUEUE = 'provisioning';

export const ProvisionTenantJob = {
  name: 'provision-tenant',
  id: (tenantId: string, attempt: number) => `provision:${tenantId}:${attempt}`,
};

export const DropTenantSchemaJob = {
  name: 'drop-tenant-schema',
  id: (tenantId: string) => `drop:${tenantId}`,
};

export interface TenantJobPayload {
  tenantId: string;
}
