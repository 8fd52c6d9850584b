import { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureApplicationRoleOfSession, makeAppendOnly } from './1732600300000-audit-log';

/**
 * Witnesses of the audit log (C2SP tlog-witness; docs/audit-format.md §13).
 *
 * - `audit_witnesses`: one row per configured witness, by its key name: the tree size it said it holds
 *   for this log (from its cosignature or its 409 answer; NULL until it has said), and the submission
 *   schedule — consecutive failures, when to try next, a lease so that one worker process at a time
 *   talks to it, the last error. Workers keep it; it holds nothing that needs protecting.
 * - `audit_cosignatures`: the witnesses' cosignatures of checkpoints, the note signature line's blob as
 *   it came (key ID, timestamp, Ed25519 signature: 76 bytes). Evidence, kept like the log: append-only
 *   (the trigger of migration 1732600300000), written by the owner, only read by the application role —
 *   which could otherwise store a cosignature that does not verify and so spoil every export after it.
 */
export class AuditWitnesses1732601700000 implements MigrationInterface {
  name = 'AuditWitnesses1732601700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.audit_witnesses (
        name text PRIMARY KEY,
        verifier_key text NOT NULL,
        url text NOT NULL,
        cosigned_size bigint CHECK (cosigned_size >= 0),
        failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        last_success_at timestamptz,
        last_error text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE platform.audit_cosignatures (
        checkpoint_id bigint NOT NULL REFERENCES platform.audit_checkpoints (id),
        witness text NOT NULL,
        key_id bytea NOT NULL CHECK (octet_length(key_id) = 4),
        signature bytea NOT NULL CHECK (octet_length(signature) = 76 AND substring(signature FROM 1 FOR 4) = key_id),
        cosigned_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (checkpoint_id, witness, key_id)
      )`);
    await makeAppendOnly(q, 'audit_cosignatures');
    // Default privileges gave the application role the cosignatures too; take writing back.
    await ensureApplicationRoleOfSession(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE platform.audit_cosignatures, platform.audit_witnesses`);
  }
}
