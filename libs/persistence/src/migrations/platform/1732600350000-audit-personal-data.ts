import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log's personal-data side table (docs/compliance.md). Entries name people only by subject
 * id; here each subject has a lookup digest (HMAC of its identifier under a key derived from the
 * platform secret) and its own data key, sealed by the platform secret; its personal data is encrypted
 * under that key. Erasing a subject nulls the key and the digest: the data becomes unreadable, and no
 * identifier leads to the subject any more, while the log itself is untouched.
 *
 * Operators also get a `token_id`, the credential an audit entry names as `actor.via`: it changes
 * when the bootstrap operator's token is replaced, so entries tell the old token from the new one.
 */
export class AuditPersonalData1732600350000 implements MigrationInterface {
  name = 'AuditPersonalData1732600350000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.audit_subjects (
        id bigint PRIMARY KEY DEFAULT platform.next_id(),
        lookup_digest bytea UNIQUE CHECK (octet_length(lookup_digest) = 32),
        key_sealed text,
        created_at timestamptz NOT NULL DEFAULT now(),
        erased_at timestamptz,
        CHECK ((erased_at IS NULL) = (key_sealed IS NOT NULL AND lookup_digest IS NOT NULL))
      )`);
    await q.query(`
      CREATE TABLE platform.audit_personal_data (
        record_ref uuid NOT NULL,
        position smallint NOT NULL CHECK (position >= 0),
        subject_id bigint NOT NULL REFERENCES platform.audit_subjects(id),
        kind text NOT NULL CHECK (kind IN ('mentioned', 'connection', 'behalf')),
        ciphertext text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (record_ref, position)
      )`);
    await q.query(`CREATE INDEX audit_personal_data_subject ON platform.audit_personal_data (subject_id)`);
    await q.query(
      `ALTER TABLE platform.operators ADD COLUMN token_id bigint NOT NULL UNIQUE DEFAULT platform.next_id()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform.operators DROP COLUMN token_id`);
    await q.query(`DROP TABLE platform.audit_personal_data, platform.audit_subjects`);
  }
}
