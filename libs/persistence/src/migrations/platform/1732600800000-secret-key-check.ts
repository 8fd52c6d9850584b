import { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureApplicationRoleOfSession, REFUSE_AUDIT_KEY_CHANGE } from './1732600300000-audit-log';

/**
 * What a change of the platform's secret key (TOWNHALL_SECRET_KEY) needs from the database:
 *
 * - `secret_key_check`: one row saying which key sealed the data — a check value derived from the key,
 *   never the key — so a start with another key is refused instead of sealing new data nobody can
 *   open together with the old. Written by the first start (after proving the key on what is already
 *   sealed) and by `townhall secret-key rotate`; the application may only read it.
 *   `audit_legacy_lookup_key_sealed` is the lookup key of audit subjects recorded before their
 *   identifiers were kept, set by a rotation that meets such subjects (see AuditSubjectCipher).
 * - `audit_subjects.identifier_ciphertext`: the identifier, encrypted under the subject's own key, so a
 *   rotation can recompute the lookup digest under the new key. Erasure destroys it with the key.
 * - the signing-key trigger lets a key's private half be re-sealed under a new platform key; every
 *   other column stays as it was, so the key itself cannot change.
 */
export class SecretKeyCheck1732600800000 implements MigrationInterface {
  name = 'SecretKeyCheck1732600800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.secret_key_check (
        id smallint PRIMARY KEY CHECK (id = 1),
        format text NOT NULL,
        key_id text NOT NULL,
        check_value bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        audit_legacy_lookup_key_sealed text
      )`);
    await q.query(`ALTER TABLE platform.audit_subjects ADD COLUMN identifier_ciphertext text`);
    await q.query(`
      ALTER TABLE platform.audit_subjects ADD CONSTRAINT audit_subjects_erased_identifier
        CHECK (erased_at IS NULL OR identifier_ciphertext IS NULL)`);
    await q.query(`CREATE OR REPLACE ${REFUSE_AUDIT_KEY_CHANGE_RESEALABLE}`);
    // Default privileges gave the application role the new table in full; it may only read it.
    await ensureApplicationRoleOfSession(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE OR REPLACE ${REFUSE_AUDIT_KEY_CHANGE}`);
    await q.query(`ALTER TABLE platform.audit_subjects DROP CONSTRAINT audit_subjects_erased_identifier`);
    await q.query(`ALTER TABLE platform.audit_subjects DROP COLUMN identifier_ciphertext`);
    await q.query(`DROP TABLE platform.secret_key_check`);
  }
}

/**
 * The signing-key trigger as this migration leaves it: a key is retired once, or its private half
 * re-sealed. (Migration 1732601300000 also lets the private half go, and restores this when undone.)
 */
export const REFUSE_AUDIT_KEY_CHANGE_RESEALABLE = `
      FUNCTION platform.refuse_audit_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE'
           AND (NEW.key_id, NEW.public_key_pem, NEW.valid_from, NEW.created_at)
               IS NOT DISTINCT FROM (OLD.key_id, OLD.public_key_pem, OLD.valid_from, OLD.created_at) THEN
          -- Retired, once.
          IF OLD.valid_to IS NULL AND NEW.valid_to IS NOT NULL
             AND NEW.private_key_sealed = OLD.private_key_sealed THEN
            RETURN NEW;
          END IF;
          -- Re-sealed under a new platform key (townhall secret-key rotate). A different private key
          -- would not match the public key every verifier holds, so nothing could sign unnoticed with it.
          IF NEW.valid_to IS NOT DISTINCT FROM OLD.valid_to THEN
            RETURN NEW;
          END IF;
        END IF;
        RAISE EXCEPTION 'platform.audit_signing_keys: % refused (a key can only be retired, once, or re-sealed)', TG_OP
          USING ERRCODE = 'restrict_violation';
      END $$`;
