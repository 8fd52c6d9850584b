import { getQueueToken } from '@nestjs/bull';
import { INestApplicationContext } from '@nestjs/common';
import type { Queue } from 'bull';
import { DataSource } from 'typeorm';
import { AuditStore } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import {
  DeleteTenantCommand,
  PROVISIONING_QUEUE,
  ProvisioningWorker,
  TenantLifecycle,
} from '@townhall/provisioning';
import { TenantRegistry } from '@townhall/tenancy';
import { exportedLog } from '../support/audit';
import { createTestDatabase } from '../support/database';
import { startProvisioningContext, waitForTenantStatus } from '../support/tenants';

/**
 * Promises of the tenant lifecycle that no other test held the code to: the suspension reason is
 * cleared when the suspension is lifted (docs/compliance.md, "Personal data outside the audit log"); a
 * purge is recorded as one (docs/compliance.md, "What is recorded"); and a deletion whose job was lost
 * is finished by the reconciler (docs/operations.md, "Redis"). Tenants are put in place with SQL, as
 * the API would leave them; the worker runs in this process.
 */
describe('tenant lifecycle promises (real PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;
  let lifecycle: TenantLifecycle;
  let registry: TenantRegistry;
  let ds: DataSource;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    ({ app, lifecycle, registry, ds } = await startProvisioningContext(config));
  });

  afterAll(async () => {
    await app?.get<Queue>(getQueueToken(PROVISIONING_QUEUE)).obliterate({ force: true });
    await app?.close();
    await drop?.();
  });

  /** A tenant row in `status` with an empty schema of its own; `fields` sets more columns. */
  async function tenant(slug: string, status: string, fields: Record<string, string> = {}): Promise<string> {
    const columns = Object.keys(fields);
    const [{ id, schema }] = (await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, activated_at
                                     ${columns.map((c) => `, ${c}`).join('')})
       SELECT id, $1, $1, 'owner@' || $1 || '.example', $2, 'default', 'tenant_' || id, now()
              ${columns.map((_, i) => `, $${i + 3}`).join('')}
         FROM (SELECT platform.next_id() AS id) s
       RETURNING id::text AS id, schema_name AS schema`,
      [slug, status, ...Object.values(fields)],
    )) as [{ id: string; schema: string }];
    await ds.query(
      `INSERT INTO platform.tenant_domains (domain, tenant_id, is_primary) VALUES ($1, $2, true)`,
      [`social.${slug}.example`, id],
    );
    await ds.query(`CREATE SCHEMA ${schema}`);
    return id;
  }

  const stored = async (id: string) =>
    (
      (await ds.query(
        `SELECT status, suspension_reason AS reason, suspended_at AS "suspendedAt" FROM platform.tenants WHERE id = $1`,
        [id],
      )) as [{ status: string; reason: string | null; suspendedAt: Date | null }]
    )[0];

  const schemaExists = async (id: string): Promise<boolean> =>
    (
      (await ds.query(
        `SELECT 1 FROM platform.tenants t JOIN information_schema.schemata s ON s.schema_name = t.schema_name
          WHERE t.id = $1`,
        [id],
      )) as unknown[]
    ).length === 1;

  it('clears the suspension reason when the suspension is lifted', async () => {
    const id = await tenant('lifted', 'active');
    await lifecycle.suspend(id, 'Complaint by Jane Doe, case 17');
    expect(await stored(id)).toMatchObject({ status: 'suspended', reason: 'Complaint by Jane Doe, case 17' });

    const resumed = await lifecycle.resume(id);
    expect(resumed).toMatchObject({ status: 'active', suspensionReason: null, suspendedAt: null });
    expect(await stored(id)).toEqual({ status: 'active', reason: null, suspendedAt: null });
  });

  it('records a deletion’s grace period, and a purge without one as such', async () => {
    const later = await tenant('later', 'active');
    const now = await tenant('now', 'suspended');
    await lifecycle.delete(later, new DeleteTenantCommand({ graceSeconds: 3600 }));
    await lifecycle.delete(now, new DeleteTenantCommand({ purgeImmediately: true }));
    const deletions = (await exportedLog(app.get(AuditStore))).entries.filter(
      (e) => e.action === 'tenant.delete',
    );
    expect(deletions.map((e) => [e.tenant, e.details])).toEqual([
      [later, { from: 'active', to: 'deleting', graceSeconds: 3600 }],
      [now, { from: 'suspended', to: 'deleting', graceSeconds: 0, purgeImmediately: true }],
    ]);
  });

  it('finishes a deletion past its grace period whose job was lost, once the worker reconciles', async () => {
    // What a flushed Redis leaves: the registry says the data is due to go, the queue knows nothing.
    const due = await tenant('due', 'deleting', {
      delete_after: new Date(Date.now() - 60_000).toISOString(),
    });
    const notYet = await tenant('not-yet', 'deleting', {
      delete_after: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(await app.get(ProvisioningWorker).reconcile()).toBeGreaterThanOrEqual(2);
    expect(await waitForTenantStatus(registry, due, ['deleted'], 15_000)).toMatchObject({
      status: 'deleted',
    });
    expect(await schemaExists(due)).toBe(false);
    expect(await registry.findByHost('social.due.example')).toBeNull();
    // One still within its grace period keeps its data.
    expect((await registry.findById(notYet))?.status).toBe('deleting');
    expect(await schemaExists(notYet)).toBe(true);
  });
});
