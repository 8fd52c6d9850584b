import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { preparedQuery } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { insertLocalAccount } from '@townhall/social';
import {
  migrateTenantSchema,
  runInTenantSchema,
  TenantContext,
  TenantRef,
  tenantSchemaName,
  TenantTransactions,
} from '@townhall/tenancy';
import { createTestDatabase, migratedDataSource } from '../support/database';

/**
 * Tenancy's core promise: one pool, many schemas, and nothing of one tenant ever visible to another —
 * including when a single pooled connection alternates between them.
 */
describe('tenant isolation on a shared pool (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let ds: DataSource;
  const tenants: TenantRef[] = [];

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    // A pool of exactly one connection: every unit of work below reuses the same session.
    ds = await migratedDataSource(config, { max: 1 });
    for (const slug of ['alpha', 'beta']) {
      const [{ id }] = await ds.query(`SELECT platform.next_id()::text AS id`);
      const schema = tenantSchemaName(id);
      await ds.query(
        `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
         VALUES ($1, $2, $2, 'ops@example.org', 'active', 'default', $3)`,
        [id, slug, schema],
      );
      await ds.transaction(async (m) => {
        await m.query(`CREATE SCHEMA ${schema}`);
        await migrateTenantSchema(m, { id, schema });
      });
      tenants.push({ id, schema, domain: `${slug}.example`, status: 'active' });
    }
    // The same usernames in both tenants, which the tests below read.
    for (const t of tenants) {
      await runInTenantSchema(ds, t, async (m) => {
        for (const username of ['press', 'minister']) {
          await insertLocalAccount(m, {
            username,
            displayName: `${username} of ${t.domain}`,
            actorType: 'Person',
            uri: `https://${t.domain}/users/${username}`,
            url: null,
          });
        }
      });
    }
  });

  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  const accountsOf = (t: TenantRef) =>
    runInTenantSchema(ds, t, (m) => m.query(`SELECT username, display_name FROM accounts ORDER BY username`));

  it('lets two tenants hold the same usernames, each seeing only its own rows', async () => {
    const [a, b] = await Promise.all(tenants.map(accountsOf));
    expect(a).toEqual([
      { username: 'minister', display_name: 'minister of alpha.example' },
      { username: 'press', display_name: 'press of alpha.example' },
    ]);
    expect(b).toEqual([
      { username: 'minister', display_name: 'minister of beta.example' },
      { username: 'press', display_name: 'press of beta.example' },
    ]);
  });

  it('leaks no search_path when one pooled connection alternates between tenants', async () => {
    const [{ pid: firstPid }] = await ds.query('SELECT pg_backend_pid() AS pid');
    for (let i = 0; i < 40; i++) {
      const t = tenants[i % 2];
      const seen = await runInTenantSchema(ds, t, async (m) => {
        const [{ search_path: path }] = await m.query('SHOW search_path');
        const rows: { display_name: string }[] = await m.query('SELECT display_name FROM accounts');
        return { path, domains: new Set(rows.map((r) => r.display_name.split(' of ')[1])) };
      });
      expect(seen.path).toBe(t.schema);
      expect([...seen.domains]).toEqual([t.domain]);
      // Between units of work the session is back to the database default.
      const [{ search_path: after }] = await ds.query('SHOW search_path');
      expect(after).not.toContain('tenant_');
    }
    const [{ pid: lastPid }] = await ds.query('SELECT pg_backend_pid() AS pid');
    expect(lastPid).toBe(firstPid); // really one connection throughout
  });

  it('answers a prepared statement from the tenant of the transaction, after the connection served another', async () => {
    const [{ pid: firstPid }] = await ds.query('SELECT pg_backend_pid() AS pid');
    // The same statement, the same name, on the one connection: more than the five custom plans after
    // which PostgreSQL may settle on a generic one, alternating tenants and then staying on one.
    const order = [...Array.from({ length: 12 }, (_, i) => tenants[i % 2]), ...Array(8).fill(tenants[1])];
    for (const t of order) {
      const names = await runInTenantSchema(ds, t, async (m) =>
        (
          await preparedQuery<{ display_name: string }>(
            m,
            `SELECT display_name FROM accounts WHERE username = ANY($1::text[]) ORDER BY username`,
            [['press', 'minister']],
          )
        ).map((r) => r.display_name),
      );
      expect(names).toEqual([`minister of ${t.domain}`, `press of ${t.domain}`]);
    }
    const prepared = (await ds.query(
      `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'th\\_%'`,
    )) as { n: number }[];
    expect(prepared[0].n).toBe(1); // really prepared, once, on this connection
    const [{ pid: lastPid }] = await ds.query('SELECT pg_backend_pid() AS pid');
    expect(lastPid).toBe(firstPid);
  });

  it('prepares nothing with DATABASE_PREPARED_STATEMENTS=false (a PgBouncer older than 1.21 in front)', async () => {
    const plain = await migratedDataSource(config, { max: 1, preparedStatements: false });
    try {
      const rows = await runInTenantSchema(plain, tenants[0], (m) =>
        preparedQuery<{ username: string }>(m, `SELECT username FROM accounts WHERE username = $1`, [
          'press',
        ]),
      );
      expect(rows).toEqual([{ username: 'press' }]);
      expect(await plain.query(`SELECT count(*)::int AS n FROM pg_prepared_statements`)).toEqual([{ n: 0 }]);
    } finally {
      await plain.destroy();
    }
  });

  it('does not carry the tenant path past a failed unit of work', async () => {
    await expect(
      runInTenantSchema(ds, tenants[0], async (m) => {
        await m.query('SELECT 1 FROM accounts');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(ds.query('SELECT 1 FROM accounts')).rejects.toThrow(/relation "accounts" does not exist/);
  });

  it('refuses tenant work without a tenant context, before touching the database', async () => {
    expect(TenantContext.currentOrUndefined()).toBeUndefined();
    expect(() => TenantContext.current()).toThrow(/outside a tenant context/);
    const transactions = new TenantTransactions(ds);
    const work = jest.fn(async (m: { query: (sql: string) => Promise<unknown> }) =>
      m.query('SELECT 1 FROM accounts'),
    );
    await expect(transactions.run(work)).rejects.toMatchObject({ code: 'no_tenant_context' });
    expect(work).not.toHaveBeenCalled();
    // Inside a context the same call runs in that tenant's schema.
    const seen = await TenantContext.run(tenants[1], () =>
      transactions.run(async (m) => (await m.query('SHOW search_path')) as [{ search_path: string }]),
    );
    expect(seen[0].search_path).toBe(tenants[1].schema);
  });

  it('fails loudly when tenant tables are queried outside a tenant unit of work', async () => {
    await expect(ds.query('SELECT count(*) FROM accounts')).rejects.toThrow(
      /relation "accounts" does not exist/,
    );
  });

  it('refuses a schema name that is not a tenant schema', async () => {
    const forged = { ...tenants[0], schema: 'platform; DROP TABLE platform.tenants' };
    await expect(runInTenantSchema(ds, forged, async () => 1)).rejects.toThrow(/unsafe schema name/);
    const [{ n }] = await ds.query('SELECT count(*)::int AS n FROM platform.tenants');
    expect(n).toBe(2);
  });
});
