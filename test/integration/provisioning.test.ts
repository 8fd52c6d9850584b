import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditStore, JsonValue } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import {
  ActorKeyPool,
  DeleteTenantCommand,
  PROVISIONING_WORKER,
  ProvisioningError,
  ProvisioningWorker,
  ProvisionTenantCommand,
  TenantLifecycle,
} from '@townhall/provisioning';
import { TenantRegistry } from '@townhall/tenancy';
import { exportedLog } from '../support/audit';
import { createTestDatabase } from '../support/database';
import { startProvisioningContext, waitForTenantStatus } from '../support/tenants';
import { LATEST_TENANT_VERSION } from '@townhall/persistence';

describe('tenant provisioning (real PostgreSQL and Redis)', () => {
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
    await app?.close();
    await drop?.();
  });

  /** What the audit log says the platform itself did to a tenant: each entry's action and details. */
  async function byTheWorker(tenantId: string): Promise<[string, JsonValue][]> {
    const { entries } = await exportedLog(app.get(AuditStore));
    return entries
      .filter((e) => e.tenant === tenantId && e.actor.type === 'system' && e.actor.id === PROVISIONING_WORKER)
      .map((e) => [e.action, e.details]);
  }

  it('provisions a tenant to active with its schema, instance actor and owner', async () => {
    const created = await lifecycle.provision(
      new ProvisionTenantCommand({
        slug: 'bmi',
        domain: 'Social.BMI.Example.',
        displayName: 'Ministry',
        adminEmail: 'press@bmi.example',
      }),
    );
    expect(created.status).toBe('provisioning');
    const tenant = await waitForTenantStatus(registry, created.id, ['active', 'failed']);
    expect(tenant).toMatchObject({
      status: 'active',
      provisioningStep: 'active',
      migrationVersion: LATEST_TENANT_VERSION,
    });
    const accounts = await ds.query(
      `SELECT username, actor_type FROM ${tenant.schemaName}.accounts ORDER BY id`,
    );
    expect(accounts).toEqual([
      { username: 'social.bmi.example', actor_type: 'Application' },
      { username: 'press', actor_type: 'Person' },
    ]);
    const [key] = await ds.query(
      `SELECT private_key_sealed, public_key_pem FROM ${tenant.schemaName}.actor_keys`,
    );
    expect(key.public_key_pem).toContain('BEGIN PUBLIC KEY');
    expect(key.private_key_sealed).not.toContain('PRIVATE KEY');
    expect(await byTheWorker(tenant.id)).toEqual([
      ['tenant.activate', { from: 'provisioning', to: 'active' }],
    ]);
  });

  const command = (slug: string, domain = `${slug}.example`) =>
    new ProvisionTenantCommand({
      slug,
      domain,
      displayName: `Org ${slug}`,
      adminEmail: `owner@${slug}.example`,
    });

  it('provisions twenty tenants submitted at once, each exactly once', async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => lifecycle.provision(command(`many-${i}`))),
    );
    const done = await Promise.all(
      created.map((t) => waitForTenantStatus(registry, t.id, ['active', 'failed'], 60_000)),
    );
    expect(done.map((t) => t.status)).toEqual(Array(20).fill('active'));
    expect(new Set(done.map((t) => t.schemaName)).size).toBe(20);
    for (const t of done) {
      const [{ n }] = await ds.query(
        `SELECT count(*)::int AS n FROM ${t.schemaName}.users WHERE role = 'owner'`,
      );
      expect(n).toBe(1);
    }
  });

  it('refuses a taken slug or domain (in any spelling) and writes nothing', async () => {
    await lifecycle.provision(command('taken'));
    const before = await ds.query(`SELECT count(*)::int AS n FROM platform.tenants`);
    await expect(lifecycle.provision(command('taken', 'other.example'))).rejects.toMatchObject({
      code: 'slug_taken',
    });
    await expect(lifecycle.provision(command('fresh', 'TAKEN.example.'))).rejects.toMatchObject({
      code: 'domain_taken',
    });
    expect(await ds.query(`SELECT count(*)::int AS n FROM platform.tenants`)).toEqual(before);
  });

  it('rejects invalid commands before anything happens', () => {
    expect(() => command('x')).toThrow(ProvisioningError);
    expect(
      () =>
        new ProvisionTenantCommand({
          slug: 'okay',
          domain: 'not a host',
          displayName: 'A',
          adminEmail: 'a@b.example',
        }),
    ).toThrow(/domain must be a host name/);
    expect(
      () =>
        new ProvisionTenantCommand({
          slug: 'okay',
          domain: 'ok.example',
          displayName: 'A',
          adminEmail: 'nope',
        }),
    ).toThrow(/adminEmail must be an e-mail address/);
  });

  it('marks a tenant failed with a reason when a step keeps failing, and resumes it on retry', async () => {
    // Sabotage: the tenant's schema already holds a table the first migration needs to create.
    const [{ id }] = await ds.query(`SELECT platform.next_id()::text AS id`);
    const schema = `tenant_${id}`;
    await ds.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.accounts (x int)`);
    await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
       VALUES ($1, 'doomed', 'Doomed', 'o@doomed.example', 'provisioning', 'default', $2)`,
      [id, schema],
    );
    await ds.query(`INSERT INTO platform.tenant_domains (domain, tenant_id) VALUES ('doomed.example', $1)`, [
      id,
    ]);
    await lifecycle.enqueueProvisioning(id, 0);
    const failed = await waitForTenantStatus(registry, id, ['failed', 'active'], 30_000);
    expect(failed.status).toBe('failed');
    expect(failed.provisioningStep).toBe('schema');
    expect(failed.failureReason).toMatch(/^Failed after step schema: .*accounts.*already exists/);
    // The entry names the step, not the error message, which may carry anything.
    expect(await byTheWorker(id)).toEqual([
      ['tenant.fail', { from: 'provisioning', to: 'failed', step: 'schema', attempts: 3 }],
    ]);

    await expect(lifecycle.resume(id)).rejects.toMatchObject({ code: 'invalid_transition' });
    await ds.query(`DROP TABLE ${schema}.accounts`);
    const retried = await lifecycle.retry(id);
    expect(retried.status).toBe('provisioning');
    const active = await waitForTenantStatus(registry, id, ['active', 'failed']);
    expect(active).toMatchObject({ status: 'active', failureReason: null, provisioningAttempts: 1 });
    expect((await byTheWorker(id)).map(([action]) => action)).toEqual(['tenant.fail', 'tenant.activate']);
  });

  it('finishes provisioning whose job was lost (Redis flushed) once the worker reconciles', async () => {
    const [{ id }] = await ds.query(`SELECT platform.next_id()::text AS id`);
    await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
       VALUES ($1, 'orphan', 'Orphan', 'o@orphan.example', 'provisioning', 'default', $2)`,
      [id, `tenant_${id}`],
    );
    await ds.query(`INSERT INTO platform.tenant_domains (domain, tenant_id) VALUES ('orphan.example', $1)`, [
      id,
    ]);
    expect(await app.get(ProvisioningWorker).reconcile()).toBeGreaterThanOrEqual(1);
    expect((await waitForTenantStatus(registry, id, ['active', 'failed'])).status).toBe('active');
  });

  it('suspends, resumes and deletes a tenant, dropping its schema after the grace period', async () => {
    const t = await lifecycle.provision(command('lifecycle'));
    await waitForTenantStatus(registry, t.id, ['active']);
    expect((await lifecycle.suspend(t.id, 'court order')).status).toBe('suspended');
    await expect(lifecycle.suspend(t.id)).rejects.toMatchObject({ code: 'invalid_transition' });
    expect((await lifecycle.resume(t.id)).status).toBe('active');

    const deleting = await lifecycle.delete(t.id, new DeleteTenantCommand({ graceSeconds: 3600 }));
    expect(deleting.status).toBe('deleting');
    expect(deleting.deleteAfter!.getTime()).toBeGreaterThan(Date.now() + 3500_000);
    expect((await lifecycle.resume(t.id)).status).toBe('active'); // cancelled within the grace period

    await lifecycle.delete(t.id, new DeleteTenantCommand({ purgeImmediately: true }));
    const deleted = await waitForTenantStatus(registry, t.id, ['deleted']);
    expect(deleted.deletedAt).not.toBeNull();
    const schemas = await ds.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [
      t.schemaName,
    ]);
    expect(schemas).toHaveLength(0);
    expect(await registry.findByHost('lifecycle.example')).toBeNull();
    expect(await byTheWorker(t.id)).toEqual([
      ['tenant.activate', { from: 'provisioning', to: 'active' }],
      ['tenant.purge', { from: 'deleting', to: 'deleted' }],
    ]);
    // The slug and domain are free again.
    const again = await lifecycle.provision(command('lifecycle'));
    expect((await waitForTenantStatus(registry, again.id, ['active'])).status).toBe('active');
  });

  it('restores a suspension when a deletion is cancelled, so delete-then-resume lifts nothing', async () => {
    const t = await lifecycle.provision(command('moderated'));
    await waitForTenantStatus(registry, t.id, ['active']);
    await lifecycle.suspend(t.id, 'impersonation report');
    expect((await lifecycle.delete(t.id, new DeleteTenantCommand({ graceSeconds: 3600 }))).status).toBe(
      'deleting',
    );
    const restored = await lifecycle.resume(t.id);
    expect(restored).toMatchObject({
      status: 'suspended',
      suspensionReason: 'impersonation report',
      deleteAfter: null,
    });
    expect((await lifecycle.resume(t.id)).status).toBe('active'); // only an explicit resume lifts it
  });

  it('restores a failed tenant as failed when its deletion is cancelled', async () => {
    const [{ id }] = await ds.query(`SELECT platform.next_id()::text AS id`);
    await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, failure_reason)
       VALUES ($1, 'broken', 'Broken', 'o@broken.example', 'failed', 'default', $2, 'Failed after step schema: boom')`,
      [id, `tenant_${id}`],
    );
    await lifecycle.delete(id, new DeleteTenantCommand({ graceSeconds: 3600 }));
    expect(await lifecycle.resume(id)).toMatchObject({
      status: 'failed',
      failureReason: 'Failed after step schema: boom',
    });
  });

  it('answers tenant_not_found for unknown and malformed ids', async () => {
    await expect(lifecycle.suspend('999999')).rejects.toMatchObject({ code: 'tenant_not_found' });
    await expect(lifecycle.suspend('1; DROP TABLE x')).rejects.toMatchObject({ code: 'tenant_not_found' });
  });

  it('takes the instance actor key from the pre-generated pool, and gives it back if the step rolls back', async () => {
    const pool = app.get(ActorKeyPool);
    expect(await pool.refill(2)).toBe(2);
    const pooled: { public_key_pem: string }[] = await ds.query(
      `SELECT public_key_pem FROM platform.actor_key_pool`,
    );

    await expect(
      ds.transaction(async (m) => {
        expect(await pool.take(m)).not.toBeNull();
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await pool.size()).toBe(2);

    const t = await lifecycle.provision(command('pooled'));
    const active = await waitForTenantStatus(registry, t.id, ['active', 'failed']);
    expect(active.status).toBe('active');
    const [key] = await ds.query(`SELECT public_key_pem FROM ${active.schemaName}.actor_keys`);
    expect(pooled.map((p) => p.public_key_pem)).toContain(key.public_key_pem);
    expect(await pool.size()).toBe(1);
    // The sealed private key was re-sealed for its new owner: the pool's ciphertext is not reused.
    const [sealed] = await ds.query(`SELECT private_key_sealed FROM ${active.schemaName}.actor_keys`);
    const remaining: { private_key_sealed: string }[] = await ds.query(
      `SELECT private_key_sealed FROM platform.actor_key_pool`,
    );
    expect(remaining.map((r) => r.private_key_sealed)).not.toContain(sealed.private_key_sealed);
  });
});
