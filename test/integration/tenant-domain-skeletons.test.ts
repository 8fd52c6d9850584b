import { Client } from 'pg';
import { hostSkeleton, TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';

/**
 * The migration that gives tenant domains their look-alike skeleton, on a platform that already has
 * tenants: every domain gets its skeleton, except one that looks like an older domain — the platform
 * must still start, and the index must hold from then on.
 */
describe('tenant domain skeletons migration (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let db: Client;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
  });

  async function insertTenant(slug: string, domain: string, createdAt: string): Promise<void> {
    const { rows } = await db.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
       SELECT id, $1, $1, 'a@x.example', 'active', 'default', 'tenant_' || id FROM (SELECT platform.next_id() AS id) s
       RETURNING id`,
      [slug],
    );
    await db.query(
      `INSERT INTO platform.tenant_domains (domain, tenant_id, created_at) VALUES ($1, $2, $3)`,
      [domain, rows[0].id, createdAt],
    );
  }

  it('gives existing domains their skeleton, oldest first, and a later look-alike none', async () => {
    // The platform as it was before the migration, with two look-alike domains registered back then.
    await db.query(`ALTER TABLE platform.tenant_domains DROP COLUMN skeleton`);
    await db.query(`DELETE FROM platform.migrations WHERE name = 'TenantDomainSkeletons1732600900000'`);
    await insertTenant('cop', 'social.cop.example', '2024-01-01T00:00:00Z');
    await insertTenant('c0p', 'social.c0p.example', '2024-06-01T00:00:00Z');
    await insertTenant('bmi', 'social.bmi.example', '2024-03-01T00:00:00Z');

    await preparePlatform(config, { migrate: true });

    const { rows } = await db.query(`SELECT domain, skeleton FROM platform.tenant_domains ORDER BY domain`);
    expect(rows).toEqual([
      { domain: 'social.bmi.example', skeleton: hostSkeleton('social.bmi.example') },
      { domain: 'social.c0p.example', skeleton: null },
      { domain: 'social.cop.example', skeleton: hostSkeleton('social.cop.example') },
    ]);
    await expect(
      db.query(`UPDATE platform.tenant_domains SET skeleton = $1 WHERE domain = 'social.c0p.example'`, [
        hostSkeleton('social.c0p.example'),
      ]),
    ).rejects.toMatchObject({ code: '23505', constraint: 'tenant_domains_skeleton' });
  });
});
