import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Regulators: data-protection authorities, DSA coordinators and auditors who read the audit log through
 * the regulator API. Each row is one credential (a token stored only as its SHA-256 hash) with a scope
 * and a hard expiry; a scope of named tenants lives in `regulator_tenants`, whose foreign key guarantees
 * every scoped tenant exists (tenant rows are kept after deletion, so a deleted tenant's history stays
 * reachable). `created_by` is the operator who issued it, null when it was issued from the command line.
 */
export class Regulators1732600400000 implements MigrationInterface {
  name = 'Regulators1732600400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.regulators (
        id bigint PRIMARY KEY DEFAULT platform.next_id(),
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
        all_tenants boolean NOT NULL,
        token_hash bytea NOT NULL UNIQUE,
        token_hint text NOT NULL,
        expires_at timestamptz NOT NULL,
        created_by bigint REFERENCES platform.operators(id),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        CHECK (expires_at > created_at)
      )`);
    await q.query(`
      CREATE TABLE platform.regulator_tenants (
        regulator_id bigint NOT NULL REFERENCES platform.regulators(id) ON DELETE CASCADE,
        tenant_id bigint NOT NULL REFERENCES platform.tenants(id),
        PRIMARY KEY (regulator_id, tenant_id)
      )`);
    await q.query(`CREATE INDEX regulator_tenants_tenant ON platform.regulator_tenants (tenant_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform.regulator_tenants, platform.regulators`);
  }
}
