import type { EntityManager } from 'typeorm';
import {
  AuditContext,
  AuditRecorder,
  AuditTarget,
  JsonValue,
  systemAuditContext,
} from '@townhall/compliance';
import type { TenantStatus } from '@townhall/tenancy';

/**
 * The system actor of what the platform does to tenants by itself — activating a provisioned tenant,
 * marking one failed, dropping a deleted one's schema — as the audit log names it.
 */
export const PROVISIONING_WORKER = 'provisioning-worker';

/**
 * Runs a job's work as the provisioning worker, whoever called it: the transitions it records are the
 * platform's own, and each run gets its own random request id.
 */
export function asProvisioningWorker<T>(work: () => Promise<T>): Promise<T> {
  return AuditContext.run(systemAuditContext(PROVISIONING_WORKER), work);
}

export function tenantTarget(id: string): AuditTarget {
  return { type: 'tenant', id };
}

/** Records a transition the worker made to a tenant, in the transaction (`manager`) that made it. */
export function recordWorkerTransition(
  recorder: AuditRecorder,
  manager: EntityManager,
  action: string,
  tenantId: string,
  details: { from: TenantStatus; to: TenantStatus } & { [member: string]: JsonValue },
): Promise<void> {
  return recorder.record(manager, {
    action,
    target: tenantTarget(tenantId),
    tenant: tenantId,
    outcome: 'success',
    details,
  });
}
