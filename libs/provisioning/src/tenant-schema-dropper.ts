import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditRecorder } from '@townhall/compliance';
import { quoteIdent } from '@townhall/persistence';
import { TenantChanges, TenantRegistry } from '@townhall/tenancy';
import { asProvisioningWorker, recordWorkerTransition } from './provisioning-audit';

/**
 * Finishes a deletion once its grace period is over: drops the schema, releases the domains and keeps
 * the registry row (status `deleted`) as the record that the tenant existed. Does nothing if the
 * deletion was cancelled or is not due yet. The drop is recorded (`tenant.purge`, by the provisioning
 * worker) in the transaction that makes it.
 */
@Injectable()
export class TenantSchemaDropper {
  private readonly logger = new Logger(TenantSchemaDropper.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: TenantRegistry,
    private readonly recorder: AuditRecorder,
    private readonly changes: TenantChanges,
  ) {}

  async dropIfDue(tenantId: string): Promise<'dropped' | 'not_due' | 'cancelled'> {
    const outcome = await asProvisioningWorker(() =>
      this.dataSource.transaction(async (manager) => {
        const tenant = await this.registry.lockById(manager, tenantId);
        if (!tenant || tenant.status !== 'deleting') return 'cancelled';
        if (tenant.deleteAfter && tenant.deleteAfter.getTime() > Date.now()) return 'not_due';
        await manager.query(`DROP SCHEMA IF EXISTS ${quoteIdent(tenant.schemaName)} CASCADE`);
        await manager.query(`DELETE FROM platform.tenant_domains WHERE tenant_id = $1`, [tenantId]);
        await manager.query(
          `UPDATE platform.tenants SET status = 'deleted', deleted_at = now(), updated_at = now() WHERE id = $1`,
          [tenantId],
        );
        await recordWorkerTransition(this.recorder, manager, 'tenant.purge', tenantId, {
          from: 'deleting',
          to: 'deleted',
        });
        this.logger.log({ tenantId, schema: tenant.schemaName }, 'Tenant schema dropped');
        return 'dropped' as const;
      }),
    );
    if (outcome === 'dropped') await this.changes.announce(tenantId);
    return outcome;
  }
}
