import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { TENANT_MIGRATIONS, TenantMigration, withDefaultUser } from '@townhall/persistence';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import {
  migrateTenantSchema,
  TenancyError,
  TenancyModule,
  TenantMigrationProgress,
  TenantMigrationRunner,
} from '@townhall/tenancy';
import { createTestDatabase } from '../support/database';

/**
 * The tenant migration runner against the real PostgreSQL: many schemas, bounded concurrency, a schema
 * held by another session, a migration that breaks in one schema, and a second runner.
 */
describe('TenantMigrationRunner (real PostgreSQL)', () => {
  const released = [...TENANT_MIGRATIONS];
  const base = released.length;
  /** Test-only history on top of the released one: what a release adding two migrations would look like. */
  const addsColumn: TenantMigration = {
    version: base + 1,
    name: 'test_accounts_flag',
    statements: [`ALTER TABLE accounts ADD COLUMN test_flag boolean NOT NULL DEFAULT false`],
  };
  const addsTable: TenantMigration = {
    version: base + 2,
    name: 'test_notes',
    statements: [
      `CREATE TABLE test_notes (id bigint PRIMARY KEY, body text NOT NULL)`,
      `ALTER TABLE accounts ADD COLUMN test_score integer`,
    ],
  };

  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;
  let runner: TenantMigrationRunner;
  let ds: DataSource;
  let tenants: { id: string; slug: string; schema: string }[];

  const client = async (): Promise<Client> => {
    const c = new Client({ connectionString: withDefaultUser(config.database.url) });
    await c.connect();
    return c;
  };
  const versionOf = async (schema: string): Promise<{ registry: number; schema: number }> => {
    const [row] = await ds.query(
      `SELECT t.migration_version AS registry, (SELECT max(version) FROM ${schema}.schema_migrations)::int AS schema
         FROM platform.tenants t WHERE t.schema_name = $1`,
      [schema],
    );
    return row;
  };
  /** Tenant rows and schemas made directly, at the released version, so 50 of them take a second, not minutes. */
  const createTenants = async (prefix: string, count: number, status = 'active', migrate = true) => {
    const rows = (await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
       SELECT id, $1 || '-' || i, 'Test ' || i, 'admin@example.org', $3, 'default', 'tenant_' || id
         FROM (SELECT platform.next_id() AS id, i FROM generate_series(1, $2::int) i) s
       RETURNING id::text AS id, slug, schema_name AS schema`,
      [prefix, count, status],
    )) as { id: string; slug: string; schema: string }[];
    for (const t of rows) {
      await ds.transaction(async (manager) => {
        await manager.query(`CREATE SCHEMA ${t.schema}`);
        if (migrate) await migrateTenantSchema(manager, t, { migrations: released });
      });
    }
    return rows;
  };

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule.forRoot(config), TenancyModule],
    }).compile();
    app = await moduleRef.init();
    runner = app.get(TenantMigrationRunner);
    ds = app.get(DataSource);
    tenants = await createTenants('mig', 50);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('migrates 49 schemas while one is locked, reports the locked one and does not hang; a rerun finishes it', async () => {
    const locked = tenants[17];
    const holder = await client();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${locked.schema}.accounts IN ACCESS EXCLUSIVE MODE`);
    const progress: TenantMigrationProgress[] = [];
    let first;
    const started = Date.now();
    try {
      first = await runner.migrateAll({
        concurrency: 4,
        lockTimeoutMs: 300,
        migrations: [...released, addsColumn],
        onProgress: (p) => progress.push(p),
      });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(first).toMatchObject({
      latestVersion: base + 1,
      concurrency: 4,
      total: 50,
      migrated: 49,
      upToDate: 0,
      skipped: 0,
    });
    expect(first.failed).toEqual([
      {
        tenantId: locked.id,
        slug: locked.slug,
        schema: locked.schema,
        reason: expect.stringMatching(/^lock timeout: schema busy/),
      },
    ]);
    expect(await versionOf(locked.schema)).toEqual({ registry: base, schema: base });
    expect(await versionOf(tenants[0].schema)).toEqual({ registry: base + 1, schema: base + 1 });
    const [{ count }] = await ds.query(
      `SELECT count(*)::int AS count FROM platform.tenants WHERE migration_version = $1`,
      [base + 1],
    );
    expect(count).toBe(49);

    // Progress: once per tenant, counting up to the total.
    expect(progress).toHaveLength(50);
    expect(new Set(progress.map((p) => p.tenantId)).size).toBe(50);
    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(progress.find((p) => p.tenantId === locked.id)).toMatchObject({
      outcome: 'failed',
      fromVersion: base,
      toVersion: base,
    });
    expect(progress.find((p) => p.tenantId === tenants[0].id)).toMatchObject({
      outcome: 'migrated',
      fromVersion: base,
      toVersion: base + 1,
    });

    const second = await runner.migrateAll({
      concurrency: 4,
      lockTimeoutMs: 300,
      migrations: [...released, addsColumn],
    });
    expect(second).toMatchObject({ total: 50, migrated: 1, upToDate: 49, failed: [] });
    expect(await versionOf(locked.schema)).toEqual({ registry: base + 1, schema: base + 1 });
  });

  it('reports a schema whose migration throws and rolls it back, and migrates it once the cause is fixed', async () => {
    // Every tenant where the test above leaves them: at the test history's first migration.
    await runner.migrateAll({ migrations: [...released, addsColumn] });
    const poisoned = tenants[3];
    // The column the new migration adds already exists here, so its second statement fails after the first succeeded.
    await ds.query(`ALTER TABLE ${poisoned.schema}.accounts ADD COLUMN test_score integer`);
    const migrations = [...released, addsColumn, addsTable];

    const summary = await runner.migrateAll({ concurrency: 4, lockTimeoutMs: 1000, migrations });
    expect(summary).toMatchObject({ total: 50, migrated: 49, upToDate: 0 });
    expect(summary.failed).toEqual([
      {
        tenantId: poisoned.id,
        slug: poisoned.slug,
        schema: poisoned.schema,
        reason: expect.stringMatching(/^migration failed: .*already exists/),
      },
    ]);
    expect(await versionOf(poisoned.schema)).toEqual({ registry: base + 1, schema: base + 1 });
    const [{ notes }] = await ds.query(`SELECT to_regclass($1)::text AS notes`, [
      `${poisoned.schema}.test_notes`,
    ]);
    expect(notes).toBeNull();
    const [{ ok }] = await ds.query(`SELECT to_regclass($1)::text AS ok`, [
      `${tenants[4].schema}.test_notes`,
    ]);
    expect(ok).toBe(`${tenants[4].schema}.test_notes`);

    await ds.query(`ALTER TABLE ${poisoned.schema}.accounts DROP COLUMN test_score`);
    const rerun = await runner.migrateAll({ concurrency: 4, migrations });
    expect(rerun).toMatchObject({ total: 50, migrated: 1, upToDate: 49, failed: [] });
    expect(await versionOf(poisoned.schema)).toEqual({ registry: base + 2, schema: base + 2 });
  });

  it('refuses to start while another run holds the advisory lock', async () => {
    const other = await client();
    try {
      await other.query(`SELECT pg_advisory_lock(hashtext('townhall.tenant-migrations'))`);
      const attempt = runner.migrateAll({ migrations: [...released, addsColumn, addsTable] });
      await expect(attempt).rejects.toBeInstanceOf(TenancyError);
      await expect(attempt).rejects.toMatchObject({ code: 'migration_run_in_progress' });
    } finally {
      await other.end();
    }
    // Two runs started together: one does the work, the other is refused rather than doing it twice.
    const results = await Promise.allSettled([runner.migrateAll(), runner.migrateAll()]);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeLessThanOrEqual(1);
    for (const r of refused)
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'migration_run_in_progress' });
  });

  it('leaves tenants alone that are being deleted or that the provisioning saga has not migrated yet', async () => {
    const migrations = [...released, addsColumn, addsTable];
    // The first fifty where the tests above leave them: at the test history's latest version.
    expect(await runner.migrateAll({ migrations })).toMatchObject({ failed: [] });
    const [deleting] = await createTenants('gone', 1, 'deleting');
    const [early] = await createTenants('early', 1, 'provisioning', false); // saga did 'schema' only
    const [midway] = await createTenants('midway', 1, 'provisioning'); // saga past 'migrations'
    const [suspended] = await createTenants('paused', 1, 'suspended');
    const [noSchema] = (await ds.query(
      `INSERT INTO platform.tenants (slug, display_name, admin_email, status, cell_id, schema_name)
       VALUES ('broken', 'Broken', 'a@example.org', 'failed', 'default', 'tenant_' || platform.next_id())
       RETURNING schema_name AS schema`,
    )) as { schema: string }[];

    const seen: string[] = [];
    const summary = await runner.migrateAll({ migrations, onProgress: (p) => seen.push(p.schema) });
    expect(summary).toMatchObject({ total: 52, migrated: 2, upToDate: 50, failed: [] });
    expect(seen).toEqual(expect.arrayContaining([midway.schema, suspended.schema]));
    expect(seen).not.toContain(deleting.schema);
    expect(seen).not.toContain(early.schema);
    expect(seen).not.toContain(noSchema.schema);
    expect(await versionOf(midway.schema)).toEqual({ registry: base + 2, schema: base + 2 });
    expect(await versionOf(deleting.schema)).toEqual({ registry: base, schema: base });
    const [{ version }] = await ds.query(
      `SELECT migration_version AS version FROM platform.tenants WHERE schema_name = $1`,
      [early.schema],
    );
    expect(version).toBe(0);
  });
});
