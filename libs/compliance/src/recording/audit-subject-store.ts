import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { PersonalDataKind, SealedPersonalData } from '../audit-ports';
import { AuditSubjectCipher } from './audit-subject-cipher';

/** What one side-table row holds for a reader: the data, or only that it was erased. */
export interface RevealedPersonalData {
  subject: string;
  /** `mentioned` (a person the entry names), `connection` (the actor's IP and user agent), `behalf` (the person behind the actor). */
  kind: PersonalDataKind;
  data: Record<string, string> | null;
  erased: boolean;
}

interface SubjectRow {
  id: string;
  lookup_digest: Buffer | null;
  key_sealed: string | null;
}

interface StoredSubjectRow extends SubjectRow {
  identifier_ciphertext: string | null;
}

/**
 * The personal-data side table of the audit log (`platform.audit_subjects`, `platform.audit_personal_data`).
 * Every method works in the transaction of the manager it is given, so personal data is written, and
 * disappears, together with the entry that refers to it.
 */
@Injectable()
export class AuditSubjectStore {
  constructor(private readonly cipher: AuditSubjectCipher) {}

  /** The subject of `identifier`, created with a fresh data key on first mention. */
  async subjectFor(manager: EntityManager, identifier: string): Promise<SubjectRow & { key: Buffer }> {
    const digest = this.cipher.lookupDigest(identifier);
    for (;;) {
      const existing = await this.existingSubject(manager, identifier);
      if (existing) return existing;
      const { key, sealed } = this.cipher.newSubjectKey(digest);
      // Two transactions meeting a new person at once: the second waits for the first, then reads its row.
      const created = (await manager.query(
        `INSERT INTO platform.audit_subjects (lookup_digest, key_sealed, identifier_ciphertext) VALUES ($1, $2, $3)
         ON CONFLICT (lookup_digest) DO NOTHING RETURNING id::text AS id`,
        [digest, sealed, this.cipher.encryptIdentifier(key, identifier)],
      )) as { id: string }[];
      if (created.length === 1) return { id: created[0].id, lookup_digest: digest, key_sealed: sealed, key };
    }
  }

  /** The subject `identifier` maps to now, without creating one; null when never seen or erased. */
  async findSubject(manager: EntityManager, identifier: string): Promise<string | null> {
    return (await this.byIdentifier(manager, identifier))?.id ?? null;
  }

  /**
   * The subject of `identifier` with its data key if it exists, without creating one. A subject
   * recorded before identifiers were kept gets its identifier now, and its digest under the current
   * platform secret, so the next key rotation can recompute it.
   */
  async existingSubject(
    manager: EntityManager,
    identifier: string,
  ): Promise<(SubjectRow & { key: Buffer }) | null> {
    const existing = await this.byIdentifier(manager, identifier);
    if (!existing) return null;
    const key = this.cipher.openSubjectKey(existing.key_sealed!, existing.lookup_digest!);
    if (existing.identifier_ciphertext !== null) return { ...existing, key };
    const digest = this.cipher.lookupDigest(identifier);
    const sealed = this.cipher.sealSubjectKey(key, digest);
    // Whoever gets here first moves the subject; the data key stays the same either way.
    await manager.query(
      `UPDATE platform.audit_subjects SET lookup_digest = $2, key_sealed = $3, identifier_ciphertext = $4
        WHERE id = $1 AND identifier_ciphertext IS NULL`,
      [existing.id, digest, sealed, this.cipher.encryptIdentifier(key, identifier)],
    );
    return { id: existing.id, lookup_digest: digest, key_sealed: sealed, key };
  }

  /** A side-table row, encrypted under the subject's key and bound to its place, ready to insert. */
  seal(
    row: { ref: string; position: number; subject: SubjectRow & { key: Buffer }; kind: PersonalDataKind },
    data: Record<string, string>,
  ): SealedPersonalData {
    const ciphertext = this.cipher.sealPersonalData(row.subject.key, data, {
      subjectId: row.subject.id,
      ref: row.ref,
      position: row.position,
    });
    return { ref: row.ref, position: row.position, subjectId: row.subject.id, kind: row.kind, ciphertext };
  }

  /** The personal data an entry refers to (`details.personalDataRef`), in the order it was recorded. */
  async personalData(manager: EntityManager, ref: string): Promise<RevealedPersonalData[]> {
    const rows = (await manager.query(
      `SELECT p.position, p.subject_id::text AS subject, p.kind, p.ciphertext, s.lookup_digest, s.key_sealed
         FROM platform.audit_personal_data p JOIN platform.audit_subjects s ON s.id = p.subject_id
        WHERE p.record_ref = $1 ORDER BY p.position`,
      [ref],
    )) as {
      position: number;
      subject: string;
      kind: PersonalDataKind;
      ciphertext: string;
      lookup_digest: Buffer | null;
      key_sealed: string | null;
    }[];
    return rows.map((r) => {
      if (r.key_sealed === null || r.lookup_digest === null)
        return { subject: r.subject, kind: r.kind, data: null, erased: true };
      const key = this.cipher.openSubjectKey(r.key_sealed, r.lookup_digest);
      const data = this.cipher.openPersonalData(key, r.ciphertext, {
        subjectId: r.subject,
        ref,
        position: r.position,
      });
      return { subject: r.subject, kind: r.kind, data, erased: false };
    });
  }

  /**
   * Destroys the subject's data key and lookup digest. Its ciphertexts stay as tombstones nobody can
   * open, and the identifier no longer leads to the subject: a later mention makes a new one. Returns
   * false when the subject does not exist or was erased before.
   */
  async erase(manager: EntityManager, subjectId: string): Promise<boolean> {
    const rows = (await manager.query(
      `UPDATE platform.audit_subjects
          SET key_sealed = NULL, lookup_digest = NULL, identifier_ciphertext = NULL, erased_at = now()
        WHERE id = $1 AND erased_at IS NULL RETURNING id`,
      [subjectId],
    )) as [unknown[], number];
    return rows[1] === 1;
  }

  private async byIdentifier(manager: EntityManager, identifier: string): Promise<StoredSubjectRow | null> {
    const rows = (await manager.query(
      `SELECT id::text AS id, lookup_digest, key_sealed, identifier_ciphertext
         FROM platform.audit_subjects WHERE lookup_digest = ANY($1::bytea[])`,
      [this.cipher.lookupDigests(identifier)],
    )) as StoredSubjectRow[];
    return rows[0] ?? null;
  }
}
