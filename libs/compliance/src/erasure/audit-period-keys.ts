import type { SecretKeyring } from '@townhall/core';
import {
  AuditSubjectCipher,
  DirectSubjectSealing,
  type OpenPeriodKey,
} from '../recording/audit-subject-cipher';

/** A client of either kind: `pg` (rows in `.rows`) or TypeORM (rows as the result). */
export interface PeriodKeyQueryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** Subjects wrapped per statement: bounded memory whatever the size of the table. */
export const PERIOD_KEY_BATCH = 500;

/** A period key as stored: `starts_at` orders them, the newest live one wraps new subjects. */
export interface PeriodKeyRow {
  id: string;
  startsAt: Date;
  sealed: string | null;
  createdAt: Date;
  destroyedAt: Date | null;
}

/** Where a period begins: periods are calendar months in UTC. */
export function periodStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** Where the period after the one of `now` begins. */
export function nextPeriodStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

/**
 * The rows a statement returned, from either kind of client: `pg` answers `{rows}`, TypeORM the rows,
 * or `[rows, count]` for UPDATE and DELETE.
 */
export async function rowsOf<T>(q: PeriodKeyQueryable, sql: string, parameters?: unknown[]): Promise<T[]> {
  const result = (await q.query(sql, parameters)) as { rows?: T[] } | T[] | [T[], number];
  if (!Array.isArray(result)) return result.rows ?? [];
  const [first, second] = result as unknown[];
  return result.length === 2 && Array.isArray(first) && typeof second === 'number'
    ? (first as T[])
    : (result as T[]);
}

/** Every period key, oldest first (destroyed ones too: they say when erasures became final). */
export async function periodKeys(q: PeriodKeyQueryable): Promise<PeriodKeyRow[]> {
  return rowsOf<PeriodKeyRow>(
    q,
    `SELECT id::text AS id, starts_at AS "startsAt", key_sealed AS sealed, created_at AS "createdAt",
            destroyed_at AS "destroyedAt"
       FROM platform.audit_period_keys ORDER BY starts_at, id`,
  );
}

/**
 * Makes a period key for the period of `now` unless the newest live key already covers it, or —
 * with `newPeriod` — always, starting now. Runs as the owner, in the caller's transaction; a lock
 * keeps two processes from making one each. Returns the key made, or null.
 */
export async function startPeriodIfDue(
  q: PeriodKeyQueryable,
  cipher: AuditSubjectCipher,
  now: Date,
  newPeriod = false,
): Promise<PeriodKeyRow | null> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext('townhall.audit-period-keys'))`);
  const [newest] = await rowsOf<{ startsAt: Date }>(
    q,
    `SELECT starts_at AS "startsAt" FROM platform.audit_period_keys
      WHERE destroyed_at IS NULL ORDER BY starts_at DESC, id DESC LIMIT 1`,
  );
  const start = periodStart(now);
  if (!newPeriod && newest && newest.startsAt.getTime() >= start.getTime()) return null;
  // A period an operator starts begins now (never before the one it follows); others with the month.
  const startsAt = newPeriod ? maxDate(now, newest?.startsAt) : start;
  const [{ id }] = await rowsOf<{ id: string }>(q, `SELECT platform.next_id()::text AS id`);
  const [row] = await rowsOf<PeriodKeyRow>(
    q,
    `INSERT INTO platform.audit_period_keys (id, starts_at, key_sealed) VALUES ($1, $2, $3)
     RETURNING id::text AS id, starts_at AS "startsAt", key_sealed AS sealed, created_at AS "createdAt",
               destroyed_at AS "destroyedAt"`,
    [id, startsAt, cipher.newPeriodKey(id)],
  );
  return row;
}

/**
 * The newest live period key, opened; held FOR SHARE (as the owner) until the transaction ends, so
 * that no rotation destroys it while subjects are being wrapped under it.
 */
export async function newestPeriodKey(
  q: PeriodKeyQueryable,
  cipher: AuditSubjectCipher,
): Promise<OpenPeriodKey | null> {
  const [row] = await rowsOf<{ id: string; sealed: string }>(
    q,
    `SELECT id::text AS id, key_sealed AS sealed FROM platform.audit_period_keys
      WHERE destroyed_at IS NULL ORDER BY starts_at DESC, id DESC LIMIT 1 FOR SHARE`,
  );
  return row ? cipher.openPeriodKey(row.id, row.sealed) : null;
}

interface SubjectToWrap {
  id: string;
  lookup_digest: Buffer;
  key_sealed: string;
  identifier_ciphertext: string | null;
}

/**
 * Wraps one batch of subjects under `to`, each opened with `open`: their lookup digests are
 * recomputed under `to` from their identifiers (kept under the subject's own key); subjects recorded
 * before identifiers were kept keep theirs. `rows` are locked by the caller (FOR UPDATE), so an erasure
 * or a legacy subject's move cannot interleave.
 */
export async function wrapSubjects<R extends SubjectToWrap>(
  q: PeriodKeyQueryable,
  cipher: AuditSubjectCipher,
  to: OpenPeriodKey,
  rows: R[],
  open: (row: R) => Buffer,
): Promise<void> {
  if (rows.length === 0) return;
  const moved = rows.map((row) => {
    const key = open(row);
    const digest =
      row.identifier_ciphertext === null
        ? row.lookup_digest
        : cipher.lookupDigest(to, cipher.decryptIdentifier(key, row.identifier_ciphertext));
    return { id: row.id, digest, wrapped: cipher.wrapSubjectKey(to, row.id, key) };
  });
  await q.query(
    `UPDATE platform.audit_subjects s SET lookup_digest = v.digest, key_sealed = v.wrapped, period_key_id = $4
       FROM unnest($1::bigint[], $2::bytea[], $3::text[]) AS v(id, digest, wrapped) WHERE s.id = v.id`,
    [moved.map((m) => m.id), moved.map((m) => m.digest), moved.map((m) => m.wrapped), to.id],
  );
}

export interface DirectSealingUpgrade {
  /** Subjects moved from the secret key itself onto the period key. */
  subjects: number;
  /** The legacy lookup key for the key check row, sealed the current way, or null when none is needed. */
  legacyLookupKeySealed: string | null;
}

/**
 * Moves the audit subjects of an installation from before period keys (their data keys sealed with
 * the secret key itself, their digests under a lookup key derived from it) onto a period key made for
 * the period of `now`, in the caller's transaction, as the owner. Subjects already on a period key are
 * left alone, so running it again changes nothing. `storedLegacyKey` is the key check row's legacy
 * lookup key as that installation sealed it.
 */
export async function upgradeDirectlySealedSubjects(
  q: PeriodKeyQueryable,
  keyring: SecretKeyring,
  storedLegacyKey: string | null,
  now: Date,
  progress: (done: number) => void = () => undefined,
): Promise<DirectSealingUpgrade> {
  const direct = new DirectSubjectSealing(keyring);
  const [{ legacy }] = await rowsOf<{ legacy: number }>(
    q,
    `SELECT count(*)::int AS legacy FROM platform.audit_subjects
      WHERE key_sealed IS NOT NULL AND identifier_ciphertext IS NULL`,
  );
  // Subjects without identifiers were all filed under one key: the one a rotation kept, else the first.
  const cipher =
    storedLegacyKey === null
      ? new AuditSubjectCipher(keyring, legacy > 0 ? direct.lookupKey() : null)
      : storedLegacyKey.startsWith('v1:')
        ? new AuditSubjectCipher(keyring, legacy > 0 ? direct.openLegacyLookupKey(storedLegacyKey) : null)
        : AuditSubjectCipher.withSealedLegacyKey(keyring, storedLegacyKey);
  let to = await newestPeriodKey(q, cipher);
  if (!to) {
    await startPeriodIfDue(q, cipher, now);
    to = (await newestPeriodKey(q, cipher))!;
  }
  let done = 0;
  for (;;) {
    const rows = await rowsOf<SubjectToWrap>(
      q,
      `SELECT id::text AS id, lookup_digest, key_sealed, identifier_ciphertext FROM platform.audit_subjects
        WHERE key_sealed IS NOT NULL AND period_key_id IS NULL ORDER BY id LIMIT ${PERIOD_KEY_BATCH} FOR UPDATE`,
    );
    if (rows.length === 0) break;
    await wrapSubjects(q, cipher, to, rows, (row) =>
      direct.openSubjectKey(row.key_sealed, row.lookup_digest),
    );
    done += rows.length;
    progress(done);
  }
  return { subjects: done, legacyLookupKeySealed: cipher.sealedLegacyKey() };
}

function maxDate(a: Date, b: Date | undefined): Date {
  return b && b.getTime() > a.getTime() ? b : a;
}
