import { MigrationInterface, QueryRunner } from 'typeorm';
import { REFUSE_AUDIT_KEY_CHANGE_RESEALABLE } from './1732600800000-secret-key-check';

/**
 * A retired audit signing key keeps no private half, and a current one may have none in the database.
 *
 * Whoever held a retired private key could sign a rotation record from it and, at the time, make
 * verifiers trust a key of their own; verifiers now refuse such records, and the key is gone as well,
 * so a rotation limits what a leak of the database can sign. A key held outside the database (a KMS or
 * an HSM, TOWNHALL_AUDIT_SIGNER_MODULE) never had a private half here.
 *
 * - `private_key_sealed` may be NULL; a retired key must have NULL (checked), so retiring deletes it.
 * - The trigger lets a key be retired once (its private half going with it), lets the private half of
 *   any key go, and lets one that exists be re-sealed (`townhall secret-key rotate`); nothing sets a
 *   private half where there was none, so a deleted key never comes back.
 * - Keys retired before this migration lose their private half now.
 *
 * The deleted values stay in PostgreSQL's old row versions until vacuumed, in the WAL and in backups —
 * sealed under TOWNHALL_SECRET_KEY, which is what protects them there (docs/operations.md).
 */
export class AuditSigningKeyCustody1732601300000 implements MigrationInterface {
  name = 'AuditSigningKeyCustody1732601300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform.audit_signing_keys ALTER COLUMN private_key_sealed DROP NOT NULL`);
    await q.query(`CREATE OR REPLACE ${REFUSE_AUDIT_KEY_CHANGE_WITHOUT_RETIRED_PRIVATE_KEYS}`);
    await q.query(
      `UPDATE platform.audit_signing_keys SET private_key_sealed = NULL
        WHERE valid_to IS NOT NULL AND private_key_sealed IS NOT NULL`,
    );
    await q.query(`
      ALTER TABLE platform.audit_signing_keys ADD CONSTRAINT audit_signing_keys_retired_without_private_key
        CHECK (valid_to IS NULL OR private_key_sealed IS NULL)`);
  }

  /** The rules as they were; private halves already deleted stay deleted, so the column stays nullable. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE platform.audit_signing_keys DROP CONSTRAINT audit_signing_keys_retired_without_private_key`,
    );
    await q.query(`CREATE OR REPLACE ${REFUSE_AUDIT_KEY_CHANGE_RESEALABLE}`);
  }
}

export const REFUSE_AUDIT_KEY_CHANGE_WITHOUT_RETIRED_PRIVATE_KEYS = `
      FUNCTION platform.refuse_audit_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE'
           AND (NEW.key_id, NEW.public_key_pem, NEW.valid_from, NEW.created_at)
               IS NOT DISTINCT FROM (OLD.key_id, OLD.public_key_pem, OLD.valid_from, OLD.created_at) THEN
          -- Retired, once, and its private half deleted with it (the CHECK insists on the latter).
          IF OLD.valid_to IS NULL AND NEW.valid_to IS NOT NULL AND NEW.private_key_sealed IS NULL THEN
            RETURN NEW;
          END IF;
          -- The private half deleted, or re-sealed under a new platform key (townhall secret-key rotate):
          -- a different private key would not match the public key every verifier holds. Never set
          -- where there was none: a deleted key does not come back.
          IF NEW.valid_to IS NOT DISTINCT FROM OLD.valid_to
             AND (NEW.private_key_sealed IS NULL OR OLD.private_key_sealed IS NOT NULL) THEN
            RETURN NEW;
          END IF;
        END IF;
        RAISE EXCEPTION 'platform.audit_signing_keys: % refused (a key can only be retired, once, losing its private half, or have its private half re-sealed or deleted)', TG_OP
          USING ERRCODE = 'restrict_violation';
      END $$`;
