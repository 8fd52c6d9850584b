import { Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AuditRecorder } from '../audit-ports';
import { AuditSubjectCipher, type OpenPeriodKey } from '../recording/audit-subject-cipher';
import { AuditOwnerConnection } from '../store/audit-owner-connection';
import {
  newestPeriodKey,
  PERIOD_KEY_BATCH,
  rowsOf,
  startPeriodIfDue,
  wrapSubjects,
  type PeriodKeyRow,
} from './audit-period-keys';

/** What a rotation of period keys did. */
export interface PeriodKeyRotation {
  /** The key made for a new period, if one was. */
  started: { id: string; startsAt: Date } | null;
  /** Subjects moved onto the newest key. */
  rewrapped: number;
  /** Keys destroyed: no live subject was wrapped under them any more. */
  destroyed: { id: string; startsAt: Date; destroyedAt: Date }[];
  /** Whether the legacy lookup key was dropped, no subject needing it any more. */
  legacyLookupKeyDropped: boolean;
}

export interface PeriodKeyRotationOptions {
  now?: Date;
  /** Start a new period now, whatever the calendar says (after an urgent erasure). */
  newPeriod?: boolean;
  progress?: (rewrapped: number) => void;
}

/**
 * Rotates the audit log's period keys (docs/compliance.md, "Erasure and backups"), as the owner, in
 * three steps that each leave a consistent state, so a crash anywhere only leaves work for the next run:
 *
 * 1. when the calendar month of the newest live key is over (or an operator asks), a key for the new
 *    period is made, and recorded (`audit.period_key.create`);
 * 2. every live subject wrapped under an older key is wrapped again under the newest and filed under
 *    its lookup key, a batch per transaction (rows locked, so an erasure waits for its batch);
 * 3. every older key under which no live subject is wrapped any more is destroyed — its sealed value
 *    overwritten with NULL and the table rewritten (VACUUM FULL), so no old version of the row stays
 *    in the table's files — and recorded (`audit.period_key.destroy`). From then on no copy of a
 *    subject row made while that key wrapped it (a backup, an old row version, a WAL segment) opens
 *    with the secret key alone.
 *
 * Workers run it hourly (AuditPeriodKeysWorker); `townhall audit period-keys rotate` runs it at once.
 */
@Injectable()
export class RotateAuditPeriodKeys {
  private readonly logger = new Logger(RotateAuditPeriodKeys.name);

  constructor(
    private readonly owner: AuditOwnerConnection,
    private readonly recorder: AuditRecorder,
    private readonly cipher: AuditSubjectCipher,
  ) {}

  async run(options: PeriodKeyRotationOptions = {}): Promise<PeriodKeyRotation> {
    const now = options.now ?? new Date();
    const ds = await this.owner.dataSource();
    const started = await this.startPeriod(ds, now, options.newPeriod ?? false);
    const rewrapped = await this.rewrap(ds, options.progress ?? (() => undefined));
    const { destroyed, legacyLookupKeyDropped } = await this.destroyUnused(ds);
    if (destroyed.length > 0 || (await this.destroyedRecently(ds))) await this.rewriteKeyTable(ds);
    return {
      started: started && { id: started.id, startsAt: started.startsAt },
      rewrapped,
      destroyed,
      legacyLookupKeyDropped,
    };
  }

  /** Recorded only when a key is made: most runs find the month's key there already. */
  private startPeriod(ds: DataSource, now: Date, newPeriod: boolean): Promise<PeriodKeyRow | null> {
    return ds.transaction(async (m) => {
      const key = await startPeriodIfDue(m, this.cipher, now, newPeriod);
      if (key) {
        await this.recorder.record(m, {
          action: 'audit.period_key.create',
          tenant: null,
          target: { type: 'audit_period_key', id: key.id },
          outcome: 'success',
          details: { startsAt: key.startsAt.toISOString() },
        });
      }
      return key;
    });
  }

  private async rewrap(ds: DataSource, progress: (n: number) => void): Promise<number> {
    let done = 0;
    for (;;) {
      const moved = await ds.transaction(async (m) => {
        const to = await newestPeriodKey(m, this.cipher);
        if (!to) return 0;
        // SKIP LOCKED: a batch another run holds is that run's; an erasure in progress is left to finish.
        // A row under a destroyed key (an erased subject's, restored from a backup) opens with nothing.
        const rows = await rowsOf<{
          id: string;
          lookup_digest: Buffer;
          key_sealed: string;
          identifier_ciphertext: string | null;
          period_key_id: string;
          period_key_sealed: string;
        }>(
          m,
          `SELECT s.id::text AS id, s.lookup_digest, s.key_sealed, s.identifier_ciphertext,
                  k.id::text AS period_key_id, k.key_sealed AS period_key_sealed
             FROM platform.audit_subjects s JOIN platform.audit_period_keys k ON k.id = s.period_key_id
            WHERE s.key_sealed IS NOT NULL AND s.period_key_id <> $1 AND k.key_sealed IS NOT NULL
            ORDER BY s.id LIMIT ${PERIOD_KEY_BATCH} FOR UPDATE OF s SKIP LOCKED`,
          [to.id],
        );
        const opened = new Map<string, OpenPeriodKey>();
        await wrapSubjects(m, this.cipher, to, rows, (row) => {
          let from = opened.get(row.period_key_id);
          if (!from) {
            from = this.cipher.openPeriodKey(row.period_key_id, row.period_key_sealed);
            opened.set(row.period_key_id, from);
          }
          return this.cipher.unwrapSubjectKey(from, row.id, row.key_sealed);
        });
        return rows.length;
      });
      if (moved === 0) return done;
      done += moved;
      progress(done);
    }
  }

  /**
   * Destroys the keys no live subject needs. Each key is locked first (FOR UPDATE waits for any
   * transaction wrapping a new subject under it, which holds it FOR SHARE), then checked in a statement
   * of its own, which sees what those transactions committed.
   */
  private async destroyUnused(
    ds: DataSource,
  ): Promise<Pick<PeriodKeyRotation, 'destroyed' | 'legacyLookupKeyDropped'>> {
    return ds.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('townhall.audit-period-keys'))`);
      const candidates = await rowsOf<{ id: string }>(
        m,
        `SELECT id::text AS id FROM platform.audit_period_keys
          WHERE destroyed_at IS NULL
            AND id <> (SELECT id FROM platform.audit_period_keys WHERE destroyed_at IS NULL
                        ORDER BY starts_at DESC, id DESC LIMIT 1)
          ORDER BY starts_at, id FOR UPDATE`,
      );
      const destroyed: PeriodKeyRotation['destroyed'] = [];
      for (const { id } of candidates) {
        const [row] = await rowsOf<{ id: string; startsAt: Date; destroyedAt: Date }>(
          m,
          `UPDATE platform.audit_period_keys SET key_sealed = NULL, destroyed_at = now()
            WHERE id = $1 AND NOT EXISTS (
                    SELECT 1 FROM platform.audit_subjects WHERE period_key_id = $1 AND key_sealed IS NOT NULL)
            RETURNING id::text AS id, starts_at AS "startsAt", destroyed_at AS "destroyedAt"`,
          [id],
        );
        if (!row) continue;
        destroyed.push(row);
        await this.recorder.record(m, {
          action: 'audit.period_key.destroy',
          tenant: null,
          target: { type: 'audit_period_key', id: row.id },
          outcome: 'success',
          details: { startsAt: row.startsAt.toISOString() },
        });
      }
      // Subjects recorded before identifiers were kept are filed under the legacy lookup key; once none
      // is left, nothing needs it.
      const dropped = await rowsOf<{ id: number }>(
        m,
        `UPDATE platform.secret_key_check SET audit_legacy_lookup_key_sealed = NULL
          WHERE id = 1 AND audit_legacy_lookup_key_sealed IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM platform.audit_subjects
                             WHERE key_sealed IS NOT NULL AND identifier_ciphertext IS NULL)
          RETURNING id`,
      );
      return { destroyed, legacyLookupKeyDropped: dropped.length > 0 };
    });
  }

  /**
   * Whether a key was destroyed within the last day. PostgreSQL keeps an old row version as long as a
   * transaction older than the change is open (a long report, an autovacuum ANALYZE), and VACUUM FULL
   * copies such versions into the new file: the runs of the following day rewrite the table again, so
   * the last copy goes with the first rewrite after every such transaction has ended.
   */
  private async destroyedRecently(ds: DataSource): Promise<boolean> {
    const [row] = await rowsOf<{ recent: boolean }>(
      ds,
      `SELECT EXISTS (SELECT 1 FROM platform.audit_period_keys
                       WHERE destroyed_at > now() - interval '1 day') AS recent`,
    );
    return row.recent;
  }

  /**
   * VACUUM FULL writes the table anew and removes the old file, which still held the destroyed keys'
   * sealed values in dead row versions. The table is a row per month: this takes milliseconds.
   */
  private async rewriteKeyTable(ds: DataSource): Promise<void> {
    try {
      await ds.query(`VACUUM (FULL) platform.audit_period_keys, platform.secret_key_check`);
    } catch (err) {
      this.logger.error(
        { err },
        'Could not rewrite platform.audit_period_keys: destroyed period keys stay in its file until VACUUM FULL runs',
      );
    }
  }
}
