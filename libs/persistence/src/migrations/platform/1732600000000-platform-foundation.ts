import { MigrationInterface, QueryRunner } from 'typeorm';

/** The platform schema: id generation, cells, tenants and their domains, operators. */
export class PlatformFoundation1732600000000 implements MigrationInterface {
  name = 'PlatformFoundation1732600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE SEQUENCE IF NOT EXISTS platform.id_seq CYCLE MAXVALUE 65535 MINVALUE 0 START 0`);
    await q.query(`
      CREATE OR REPLACE FUNCTION platform.next_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
        SELECT ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) << 16) | nextval('platform.id_seq')
      $$`);
    await q.query(`
      CREATE TABLE platform.cells (
        id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
        description text NOT NULL DEFAULT '',
        database_url text,
        is_default boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX cells_one_default ON platform.cells (is_default) WHERE is_default`);
    await q.query(
      `INSERT INTO platform.cells (id, description, is_default) VALUES ('default', 'The platform database', true)`,
    );
    await q.query(`
      CREATE TABLE platform.tenants (
        id bigint PRIMARY KEY DEFAULT platform.next_id(),
        slug text NOT NULL CHECK (slug ~ '^[a-z0-9-]{3,40}$'),
        display_name text NOT NULL,
        admin_email text NOT NULL,
        status text NOT NULL CHECK (status IN ('provisioning','active','suspended','failed','deleting','deleted')),
        cell_id text NOT NULL REFERENCES platform.cells(id),
        schema_name text NOT NULL UNIQUE CHECK (schema_name ~ '^tenant_[0-9]+$'),
        provisioning_step text,
        provisioning_attempts integer NOT NULL DEFAULT 0,
        failure_reason text,
        migration_version integer NOT NULL DEFAULT 0,
        suspension_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz,
        suspended_at timestamptz,
        delete_after timestamptz,
        deleted_at timestamptz
      )`);
    await q.query(
      `CREATE UNIQUE INDEX tenants_slug_live ON platform.tenants (slug) WHERE status <> 'deleted'`,
    );
    await q.query(`CREATE INDEX tenants_status ON platform.tenants (status)`);
    await q.query(`
      CREATE TABLE platform.tenant_domains (
        domain text PRIMARY KEY CHECK (domain = lower(domain)),
        tenant_id bigint NOT NULL REFERENCES platform.tenants(id) ON DELETE CASCADE,
        is_primary boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tenant_domains_tenant ON platform.tenant_domains (tenant_id)`);
    await q.query(`
      CREATE TABLE platform.operators (
        id bigint PRIMARY KEY DEFAULT platform.next_id(),
        name text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
        token_hash bytea NOT NULL UNIQUE,
        token_hint text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform.operators, platform.tenant_domains, platform.tenants, platform.cells`);
    await q.query(`DROP FUNCTION platform.next_id()`);
    await q.query(`DROP SEQUENCE platform.id_seq`);
  }
}
