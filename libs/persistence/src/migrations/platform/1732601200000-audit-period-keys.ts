import { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureApplicationRoleOfSession } from './1732600300000-audit-log';

/**
 * Period keys for the audit log's personal-data side table (docs/compliance.md, "Erasure and backups").
 *
 * - `audit_period_keys`: one random key per period (a calendar month, or sooner when an operator starts
 *   a new one), stored sealed with the secret key's `audit-period-keys` subkey. It wraps the data keys
 *   of audit subjects and keys their lookup digests. When no live subject is wrapped under an older
 *   period's key any more, the key is destroyed: `key_sealed` becomes NULL and `destroyed_at` says
 *   when. Only the owner creates and destroys them (the application may read them).
 * - `audit_subjects.period_key_id`: the period key a subject's data key is wrapped under. An erased
 *   subject keeps it: it says which key's destruction made the erasure final. NULL only for subjects
 *   sealed the earlier way, which the first start of this version wraps (`checkSecretKey`).
 */
export class AuditPeriodKeys1732601200000 implements MigrationInterface {
  name = 'AuditPeriodKeys1732601200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.audit_period_keys (
        id bigint PRIMARY KEY DEFAULT platform.next_id(),
        starts_at timestamptz NOT NULL,
        key_sealed text,
        created_at timestamptz NOT NULL DEFAULT now(),
        destroyed_at timestamptz,
        CHECK ((destroyed_at IS NULL) = (key_sealed IS NOT NULL))
      )`);
    await q.query(
      `ALTER TABLE platform.audit_subjects
         ADD COLUMN period_key_id bigint REFERENCES platform.audit_period_keys(id)`,
    );
    await q.query(
      `CREATE INDEX audit_subjects_period_key ON platform.audit_subjects (period_key_id) WHERE key_sealed IS NOT NULL`,
    );
    // Default privileges gave the application role the new table in full; it may only read it.
    await ensureApplicationRoleOfSession(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform.audit_subjects DROP COLUMN period_key_id`);
    await q.query(`DROP TABLE platform.audit_period_keys`);
  }
}
