import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { TenantLifecycle } from '@townhall/provisioning';
import { createTestDatabase } from '../support/database';
import { startProvisioningContext } from '../support/tenants';

/**
 * What docs/compliance.md promises about the personal data a tenant's record keeps in clear: a
 * suspension reason is cleared when the suspension is lifted. Tenants are put in place with SQL (no
 * worker runs here; suspending needs no schema).
 */
describe('the tenant record forgets what a lifted suspension said (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;
  let lifecycle: TenantLifecycle;
  let ds: DataSource;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' }));
    ({ app, lifecycle, ds } = await startProvisioningContext(config));
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  async function activeTenant(slug: string): Promise<string> {
    const [{ id }] = (await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, activated_at)
       SELECT id, $1, $1, 'owner@' || $1 || '.example', 'active', 'default', 'tenant_' || id, now()
         FROM (SELECT platform.next_id() AS id) s
       RETURNING id::text AS id`,
      [slug],
    )) as [{ id: string }];
    return id;
  }

  const stored = async (id: string) =>
    (
      (await ds.query(
        `SELECT status, suspension_reason AS reason, suspended_at AS "suspendedAt" FROM platform.tenants WHERE id = $1`,
        [id],
      )) as [{ status: string; reason: string | null; suspendedAt: Date | null }]
    )[0];

  it('clears the suspension reason when the suspension is lifted', async () => {
    const id = await activeTenant('lifted');
    await lifecycle.suspend(id, 'Complaint by Jane Doe, case 17');
    expect(await stored(id)).toMatchObject({ status: 'suspended', reason: 'Complaint by Jane Doe, case 17' });

    const resumed = await lifecycle.resume(id);
    expect(resumed).toMatchObject({ status: 'active', suspensionReason: null, suspendedAt: null });
    expect(await stored(id)).toEqual({ status: 'active', reason: null, suspendedAt: null });
  });
});
