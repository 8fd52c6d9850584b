/** The Bull queue that runs tenant lifecycle work, and its typed jobs. Payloads carry only the tenant id. */
export const PROVISIONING_QUEUE = 'provisioning';

export const ProvisionTenantJob = {
  name: 'provision-tenant',
  id: (tenantId: string, attempt: number) => `provision:${tenantId}:${attempt}`,
};

export const DropTenantSchemaJob = {
  name: 'drop-tenant-schema',
  /** One job per scheduled deletion: a cancelled and re-requested deletion gets a new job. */
  id: (tenantId: string, deleteAfter: Date | null) => `drop:${tenantId}:${deleteAfter?.getTime() ?? 0}`,
};

export interface TenantJobPayload {
  tenantId: string;
}
