import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { TenancyModule, TenantMigrationRunner } from '@townhall/tenancy';
import { createTestDatabase } from '../support/database';
import { waitFor } from '../support/wait';

/**
 * docs/operations.md, "Tenant migrations": `townhall migrate` runs with bounded concurrency, capped
 * below the pool size — the run's advisory lock holds one pooled connection for the whole run, so the
 * schemas share the others, and a request or job of the same process still finds the pool usable.
 */
describe('tenant migration concurrency and the pool (real PostgreSQL)', () => {
  const POOL_SIZE = 3;
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;
  let ds: DataSource;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({ DATABASE_POOL_SIZE: String(POOL_SIZE) }));
    await preparePlatform(config, { migrate: true });
    app = await (
      await Test.createTestingModule({ imports: [PlatformModule.forRoot(config), TenancyModule] }).compile()
    ).init();
    ds = app.get(DataSource);
    // Six tenants from before the tenant migrations: active, with an empty schema at version 0.
    const rows = (await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, activated_at)
       SELECT id, 'legacy-' || i, 'Legacy ' || i, 'a@legacy.example', 'active', 'default', 'tenant_' || id, now()
         FROM (SELECT platform.next_id() AS id, i FROM generate_series(1, 6) i) s
       RETURNING schema_name AS schema`,
    )) as { schema: string }[];
    for (const { schema } of rows) await ds.query(`CREATE SCHEMA ${schema}`);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('migrates at most pool size − 1 schemas at once, however many are asked for', async () => {
    let inFlight = 0;
    let peak = 0;
    let done = 0;
    const summary = await app.get(TenantMigrationRunner).migrateAll({
      concurrency: 8,
      // Runs inside each schema's transaction: while it waits, that schema's lane holds a connection.
      // A lane waits until the others run beside it, or until no schema is left to join it.
      onMigrated: async () => {
        peak = Math.max(peak, ++inFlight);
        await waitFor(() => peak >= POOL_SIZE - 1 || done + inFlight === 6, {
          timeoutMs: 20_000,
          what: `${POOL_SIZE - 1} schemas migrating at once`,
        });
        inFlight--;
        done++;
      },
    });
    expect(summary).toMatchObject({ concurrency: POOL_SIZE - 1, total: 6, migrated: 6, failed: [] });
    expect(peak).toBe(POOL_SIZE - 1);
  });
});
