import { Injectable } from '@nestjs/common';
import type { AuditWitnessConfig } from '@townhall/core';
import { changedRows } from '@townhall/persistence';
import type { AuditCheckpoint } from '../../checkpoint';
import type { Queryable } from '../audit-log.repository';

/** A configured witness's row in `platform.audit_witnesses`. */
export interface AuditWitnessRow {
  name: string;
  verifierKey: string;
  url: string;
  /** The tree size the witness said it holds for this log; null until it has said. */
  cosignedSize: number | null;
  failures: number;
  nextAttemptAt: Date;
  lastSuccessAt: Date | null;
  lastError: string | null;
}

/** The witnesses' rows and their cosignatures: queries only (the rules are WitnessSubmission's). */
@Injectable()
export class AuditWitnessesRepository {
  /** Makes a row for every configured witness; a witness whose key or URL changed is tried at once. */
  async register(m: Queryable, witnesses: readonly AuditWitnessConfig[]): Promise<void> {
    if (witnesses.length === 0) return;
    await m.query(
      `INSERT INTO platform.audit_witnesses (name, verifier_key, url)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (name) DO UPDATE SET verifier_key = EXCLUDED.verifier_key, url = EXCLUDED.url,
         failures = 0, next_attempt_at = now(), last_error = NULL, updated_at = now()
         WHERE (audit_witnesses.verifier_key, audit_witnesses.url) IS DISTINCT FROM (EXCLUDED.verifier_key, EXCLUDED.url)`,
      [witnesses.map((w) => w.name), witnesses.map((w) => w.vkey), witnesses.map((w) => w.url)],
    );
  }

  /**
   * Takes the witness for `leaseMs` if it is due and no other process holds it; returns the size it
   * is known to hold (null: unknown), or undefined when it is not ours to contact now.
   */
  async claim(
    m: Queryable,
    name: string,
    leaseMs: number,
  ): Promise<{ cosignedSize: number | null } | undefined> {
    const [row] = changedRows<{ size: string | null }>(
      await m.query(
        `UPDATE platform.audit_witnesses SET lease_until = now() + $2 * interval '1 millisecond'
          WHERE name = $1 AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
          RETURNING cosigned_size::text AS size`,
        [name, leaseMs],
      ),
    );
    return row ? { cosignedSize: row.size === null ? null : Number(row.size) } : undefined;
  }

  /** The witness says it holds `size` (a 409): remembered for the next attempt. */
  async learnSize(m: Queryable, name: string, size: number): Promise<void> {
    await m.query(
      `UPDATE platform.audit_witnesses SET cosigned_size = $2, updated_at = now() WHERE name = $1`,
      [name, size],
    );
  }

  /** The witness cosigned `size` (its cosignatures stored before): done until the next checkpoint. */
  async succeeded(m: Queryable, name: string, size: number): Promise<void> {
    await m.query(
      `UPDATE platform.audit_witnesses SET cosigned_size = $2, failures = 0, next_attempt_at = now(),
              lease_until = NULL, last_success_at = now(), last_error = NULL, updated_at = now()
        WHERE name = $1`,
      [name, size],
    );
  }

  /**
   * A failed attempt: the next one waits `retryMs` after the first failure in a row, doubled after each
   * further one up to `maxMs`, ±10 % so that processes restarted together do not stay in step.
   */
  async failed(m: Queryable, name: string, error: string, retryMs: number, maxMs: number): Promise<void> {
    await m.query(
      `UPDATE platform.audit_witnesses SET failures = failures + 1, lease_until = NULL, last_error = $2,
              next_attempt_at = now() + least($4, $3 * power(2, least(failures, 30))) * (0.9 + random() * 0.2)
                                         * interval '1 millisecond',
              updated_at = now()
        WHERE name = $1`,
      [name, error.slice(0, 1000), retryMs, maxMs],
    );
  }

  /** Gives the witness back without counting a failure (the process is stopping). */
  async release(m: Queryable, name: string): Promise<void> {
    await m.query(`UPDATE platform.audit_witnesses SET lease_until = NULL WHERE name = $1`, [name]);
  }

  /** Stores a verified cosignature of `checkpoint` (identified by its size and log signature). */
  async insertCosignature(
    m: Queryable,
    checkpoint: AuditCheckpoint,
    cosignature: { name: string; signature: Buffer; timestamp: number },
  ): Promise<void> {
    await m.query(
      `INSERT INTO platform.audit_cosignatures (checkpoint_id, witness, key_id, signature, cosigned_at)
         SELECT id, $3, substring($4::bytea FROM 1 FOR 4), $4, to_timestamp($5)
           FROM platform.audit_checkpoints WHERE tree_size = $1 AND signature = $2
       ON CONFLICT DO NOTHING`,
      [
        checkpoint.treeSize,
        Buffer.from(checkpoint.signature, 'base64'),
        cosignature.name,
        cosignature.signature,
        cosignature.timestamp,
      ],
    );
  }

  async list(m: Queryable): Promise<AuditWitnessRow[]> {
    const rows = (await m.query(
      `SELECT name, verifier_key AS "verifierKey", url, cosigned_size::text AS "cosignedSize", failures,
              next_attempt_at AS "nextAttemptAt", last_success_at AS "lastSuccessAt", last_error AS "lastError"
         FROM platform.audit_witnesses ORDER BY name`,
    )) as (Omit<AuditWitnessRow, 'cosignedSize'> & { cosignedSize: string | null })[];
    return rows.map((r) => ({ ...r, cosignedSize: r.cosignedSize === null ? null : Number(r.cosignedSize) }));
  }
}
