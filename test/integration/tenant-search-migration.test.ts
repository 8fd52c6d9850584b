import { DataSource, EntityManager } from 'typeorm';
import { TENANT_MIGRATIONS } from '@townhall/persistence';
import { Search } from '@townhall/social';
import { migrateTenantSchema } from '@townhall/tenancy';
import { createTestDatabase, migratedDataSource } from '../support/database';

/**
 * Tenant migration 3 on a schema that already has statuses: they become searchable (word for word); the
 * account search's query is the one its index serves; the index that finds a tag's followers exists.
 */
describe('Tenant migration 3: search and followed tags (real PostgreSQL)', () => {
  let drop: () => Promise<void>;
  let ds: DataSource;

  beforeAll(async () => {
    const db = await createTestDatabase();
    drop = db.drop;
    ds = await migratedDataSource(db.config);
  });

  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
  });

  it('gives statuses written before it their search words and adds the tag followers index', async () => {
    const [tenant] = (await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
       SELECT id, 'searchmig', 'Search', 'admin@example.org', 'active', 'default', 'tenant_' || id
         FROM (SELECT platform.next_id() AS id) s
       RETURNING id::text AS id, schema_name AS schema`,
    )) as { id: string; schema: string }[];
    const before = TENANT_MIGRATIONS.filter((m) => m.version < 3);
    const words = async (schema: string, q: string) =>
      (
        (await ds.query(
          `SELECT text FROM ${schema}.statuses WHERE search @@ plainto_tsquery('simple', $1) ORDER BY id`,
          [q],
        )) as { text: string }[]
      ).map((r) => r.text);

    await ds.transaction(async (m) => {
      await m.query(`CREATE SCHEMA ${tenant.schema}`);
      await migrateTenantSchema(m, tenant, { migrations: before });
      const [{ id }] = (await m.query(
        `INSERT INTO accounts (username, uri) VALUES ('clerk', 'https://x.example/users/clerk') RETURNING id`,
      )) as { id: string }[];
      await m.query(
        `INSERT INTO statuses (account_id, text, spoiler_text) VALUES ($1, 'Council meeting minutes', 'Agenda'),
                ($1, 'Deleted draft minutes', ''), ($1, 'Another note', '')`,
        [id],
      );
      await m.query(`UPDATE statuses SET deleted_at = now() WHERE text LIKE 'Deleted%'`);
      // Two local accounts, one with a confirmed login: only that one can be found.
      await m.query(
        `WITH a AS (INSERT INTO accounts (username, uri) VALUES ('clerkess', 'https://x.example/users/clerkess') RETURNING id)
         INSERT INTO users (account_id, email, confirmed_at) SELECT id, 'clerkess@x.example', now() FROM a`,
      );
      await m.query(`INSERT INTO users (account_id, email) VALUES ($1, 'clerk@x.example')`, [id]);
    });
    expect(await words(tenant.schema, 'minutes')).toEqual([]);

    await ds.transaction((m) => migrateTenantSchema(m, tenant));
    expect(await words(tenant.schema, 'minutes')).toEqual(['Council meeting minutes']);
    expect(await words(tenant.schema, 'agenda')).toEqual(['Council meeting minutes']);
    const [index] = (await ds.query(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2`,
      [tenant.schema, 'tag_relations_tag'],
    )) as { indexdef: string }[];
    expect(index.indexdef).toContain('(kind, tag_id)');

    // The account search, as the service runs it, is answered from `accounts_search`.
    const plans: string[] = [];
    const found = await ds.transaction(async (m) => {
      await m.query(`SET LOCAL search_path TO ${tenant.schema}`);
      await m.query(`SET LOCAL enable_seqscan = off`);
      const explaining = {
        query: async (sql: string, params?: unknown[]) => {
          if (sql.includes('to_tsquery')) {
            const rows = (await m.query(`EXPLAIN ${sql}`, params)) as { 'QUERY PLAN': string }[];
            plans.push(...rows.map((r) => r['QUERY PLAN']));
          }
          return m.query(sql, params);
        },
      } as unknown as EntityManager;
      const search = new Search({ run: (work: (m: EntityManager) => unknown) => work(explaining) } as never);
      return search.accounts('cler', '0', { limit: 5, offset: 0, following: false, localDomains: [] });
    });
    expect(found.map((a) => a.username)).toEqual(['clerkess']);
    expect(plans.join('\n')).toContain('accounts_search');
  });
});
