import { AuditSubjectCipher } from './audit-subject-cipher';

interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** Subjects re-keyed per statement: bounded memory whatever the size of the table. */
const BATCH = 500;

export interface AuditSubjectRekeying {
  /** The cipher of the new platform secret, legacy lookup key included when subjects still need it. */
  cipher: AuditSubjectCipher;
  /** Live subjects, each now filed and sealed under the new secret. */
  subjects: number;
  /** Of them, subjects recorded before identifiers were kept: their digest stays, under the legacy lookup key. */
  legacySubjects: number;
}

/**
 * Moves every live audit subject from the platform secret of `from` to `next`, within the caller's
 * transaction: opens its data key with the old secret, recomputes its lookup digest from its identifier
 * under the new one, and seals the key again bound to the new digest. The data key itself, and so every
 * piece of personal data sealed under it, stays as it is. Erased subjects have nothing left to move.
 *
 * `progress` hears the number of subjects done after each batch; `total` how many there are, first.
 */
export async function rekeyAuditSubjects(
  q: Queryable,
  from: AuditSubjectCipher,
  next: Buffer,
  progress: { total?(n: number): void; done?(n: number): void } = {},
): Promise<AuditSubjectRekeying> {
  const [counts] = (await q.query(
    `SELECT count(*)::int AS subjects, count(*) FILTER (WHERE identifier_ciphertext IS NULL)::int AS legacy
       FROM platform.audit_subjects WHERE key_sealed IS NOT NULL`,
  )) as { subjects: number; legacy: number }[];
  progress.total?.(counts.subjects);
  const to = from.successor(next, counts.legacy);
  let after = '0';
  let done = 0;
  for (;;) {
    const rows = (await q.query(
      `SELECT id::text AS id, lookup_digest, key_sealed, identifier_ciphertext FROM platform.audit_subjects
        WHERE key_sealed IS NOT NULL AND id > $1::bigint ORDER BY id LIMIT ${BATCH}`,
      [after],
    )) as { id: string; lookup_digest: Buffer; key_sealed: string; identifier_ciphertext: string | null }[];
    if (rows.length === 0) break;
    const moved = rows.map((row) => {
      const key = from.openSubjectKey(row.key_sealed, row.lookup_digest);
      const digest =
        row.identifier_ciphertext === null
          ? row.lookup_digest
          : to.lookupDigest(from.decryptIdentifier(key, row.identifier_ciphertext));
      return { id: row.id, digest, sealed: to.sealSubjectKey(key, digest) };
    });
    await q.query(
      `UPDATE platform.audit_subjects s SET lookup_digest = v.digest, key_sealed = v.sealed
         FROM unnest($1::bigint[], $2::bytea[], $3::text[]) AS v(id, digest, sealed) WHERE s.id = v.id`,
      [moved.map((m) => m.id), moved.map((m) => m.digest), moved.map((m) => m.sealed)],
    );
    done += rows.length;
    after = rows[rows.length - 1].id;
    progress.done?.(done);
  }
  return { cipher: to, subjects: done, legacySubjects: counts.legacy };
}
