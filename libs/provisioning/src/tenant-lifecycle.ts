import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bull';
import { DataSource, QueryFailedError } from 'typeorm';
import { tenantSchemaName, TenantEntity, TenantRegistry, TenantStatus } from '@townhall/tenancy';
import { ProvisionTenantCommand } from './commands';
import { ProvisioningError } from './provisioning.errors';
import {
  DropTenantSchemaJob,
  PROVISIONING_QUEUE,
  ProvisionTenantJob,
  TenantJobPayload,
} from './provisioning.queue';

export const MAX_DELETION_GRACE_SECONDS = 90 * 24 * 3600;
export const DEFAULT_DELETION_GRACE_SECONDS = 7 * 24 * 3600;

/**
 * The operator's use cases over a tenant's life: provision, suspend, resume, retry, delete. Each
 * checks the current state under the tenant row's lock and commits the transition before any job is
 * queued; the job queue is only a doorbell — the reconciler re-rings it for any tenant whose state says
 * work is due, so a lost Redis job or a crash between commit and enqueue loses nothing.
 */
@Injectable()
export class TenantLifecycle {
  private readonly logger = new Logger(TenantLifecycle.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: TenantRegistry,
    @InjectQueue(PROVISIONING_QUEUE) private readonly queue: Queue<TenantJobPayload>,
  ) {}

  async provision(command: ProvisionTenantCommand): Promise<TenantEntity> {
    const id = await this.dataSource.transaction(async (manager) => {
      const taken = (await manager.query(
        `SELECT
           EXISTS (SELECT 1 FROM platform.tenants WHERE slug = $1 AND status <> 'deleted') AS slug,
           EXISTS (SELECT 1 FROM platform.tenant_domains WHERE domain = $2) AS domain`,
        [command.slug, command.domain],
      )) as [{ slug: boolean; domain: boolean }];
      if (taken[0].slug)
        throw new ProvisioningError('slug_taken', `The slug "${command.slug}" is already in use.`);
      if (taken[0].domain)
        throw new ProvisioningError('domain_taken', `The domain "${command.domain}" is already in use.`);
      try {
        const [{ id: newId }] = (await manager.query(`SELECT platform.next_id()::text AS id`)) as [
          { id: string },
        ];
        await manager.query(
          `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
           VALUES ($1, $2, $3, $4, 'provisioning', (SELECT id FROM platform.cells WHERE is_default), $5)`,
          [newId, command.slug, command.displayName, command.adminEmail, tenantSchemaName(newId)],
        );
        await manager.query(
          `INSERT INTO platform.tenant_domains (domain, tenant_id, is_primary) VALUES ($1, $2, true)`,
          [command.domain, newId],
        );
        return newId;
      } catch (err) {
        throw mapUniqueViolation(err, command);
      }
    });
    await this.enqueueProvisioning(id, 0);
    return (await this.registry.findById(id))!;
  }

  async suspend(tenantId: string, reason?: string): Promise<TenantEntity> {
    return this.transition(tenantId, ['active'], async (q) => {
      await q(
        `UPDATE platform.tenants SET status = 'suspended', suspended_at = now(), suspension_reason = $2, updated_at = now() WHERE id = $1`,
        [tenantId, reason ?? null],
      );
    });
  }

  /**
   * Lifts a suspension, or cancels a deletion that is still within its grace period. A cancelled
   * deletion restores the state the tenant had before it — a suspended tenant stays suspended.
   */
  async resume(tenantId: string): Promise<TenantEntity> {
    let resumeProvisioning: number | undefined;
    const tenant = await this.transition(tenantId, ['suspended', 'deleting'], async (q, t) => {
      if (t.status === 'suspended') {
        await q(
          `UPDATE platform.tenants SET status = 'active', suspended_at = NULL, suspension_reason = NULL, updated_at = now() WHERE id = $1`,
          [tenantId],
        );
        return;
      }
      const previous = t.statusBeforeDeletion ?? (t.activatedAt ? 'active' : 'provisioning');
      await q(
        `UPDATE platform.tenants SET status = $2, delete_after = NULL, status_before_deletion = NULL, updated_at = now() WHERE id = $1`,
        [tenantId, previous],
      );
      if (previous === 'provisioning') resumeProvisioning = t.provisioningAttempts;
    });
    if (resumeProvisioning !== undefined) await this.enqueueProvisioning(tenantId, resumeProvisioning);
    return tenant;
  }

  async retry(tenantId: string): Promise<TenantEntity> {
    let attempt = 0;
    const tenant = await this.transition(tenantId, ['failed'], async (q, t) => {
      attempt = t.provisioningAttempts + 1;
      await q(
        `UPDATE platform.tenants SET status = 'provisioning', failure_reason = NULL, provisioning_attempts = $2, updated_at = now() WHERE id = $1`,
        [tenantId, attempt],
      );
    });
    await this.enqueueProvisioning(tenantId, attempt);
    return tenant;
  }

  async delete(
    tenantId: string,
    graceSeconds: number = DEFAULT_DELETION_GRACE_SECONDS,
  ): Promise<TenantEntity> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_DELETION_GRACE_SECONDS) {
      throw new ProvisioningError(
        'invalid_command',
        `graceSeconds must be an integer from 0 to ${MAX_DELETION_GRACE_SECONDS}`,
      );
    }
    const tenant = await this.transition(
      tenantId,
      ['active', 'suspended', 'failed', 'provisioning'],
      async (q) => {
        await q(
          `UPDATE platform.tenants SET status = 'deleting', status_before_deletion = status,
                delete_after = now() + make_interval(secs => $2), updated_at = now() WHERE id = $1`,
          [tenantId, graceSeconds],
        );
      },
    );
    await this.enqueueDrop(tenant);
    return tenant;
  }

  async enqueueProvisioning(tenantId: string, attempt: number): Promise<void> {
    await this.queue.add(
      ProvisionTenantJob.name,
      { tenantId },
      {
        jobId: ProvisionTenantJob.id(tenantId, attempt),
        attempts: 3,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  async enqueueDrop(tenant: Pick<TenantEntity, 'id' | 'deleteAfter'>): Promise<void> {
    const delay = Math.max(0, (tenant.deleteAfter?.getTime() ?? Date.now()) - Date.now());
    await this.queue.add(
      DropTenantSchemaJob.name,
      { tenantId: tenant.id },
      {
        jobId: DropTenantSchemaJob.id(tenant.id, tenant.deleteAfter),
        delay,
        attempts: 5,
        backoff: { type: 'exponential', delay: 5000 },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    );
  }

  private async transition(
    tenantId: string,
    from: TenantStatus[],
    apply: (q: (sql: string, params: unknown[]) => Promise<unknown>, tenant: TenantEntity) => Promise<void>,
  ): Promise<TenantEntity> {
    await this.dataSource.transaction(async (manager) => {
      const tenant = await this.registry.lockById(manager, tenantId);
      if (!tenant) throw new ProvisioningError('tenant_not_found', `No tenant with id ${tenantId}.`);
      if (!from.includes(tenant.status)) {
        throw new ProvisioningError(
          'invalid_transition',
          `The tenant is ${tenant.status}; this needs it to be ${from.join(' or ')}.`,
          {
            tenantStatus: tenant.status,
          },
        );
      }
      await apply((sql, params) => manager.query(sql, params), tenant);
    });
    return (await this.registry.findById(tenantId))!;
  }
}

function mapUniqueViolation(err: unknown, command: ProvisionTenantCommand): unknown {
  if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505') {
    const constraint = (err.driverError as { constraint?: string }).constraint ?? '';
    if (constraint.includes('slug'))
      return new ProvisioningError('slug_taken', `The slug "${command.slug}" is already in use.`);
    return new ProvisioningError('domain_taken', `The domain "${command.domain}" is already in use.`);
  }
  return err;
}
