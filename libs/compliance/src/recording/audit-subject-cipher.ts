import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { SecretBox } from '@townhall/core';
import { AUDIT_LEGACY_LOOKUP_KEY_AAD, auditSubjectKeyAad } from '@townhall/persistence';

const LOOKUP_KEY_INFO = 'townhall/audit-subject-lookup/v1';
const IDENTIFIER_AAD = 'townhall/audit-subject-identifier/v1';

/**
 * The cryptography of the personal-data side table (docs/compliance.md):
 *
 * - a subject's **lookup digest** is HMAC-SHA256 of its identifier under a key derived (HKDF-SHA256)
 *   from the platform secret, so the same person maps to the same subject without the identifier being
 *   stored in clear, and nobody without the platform secret can test guesses against the table;
 * - each subject has its own random 256-bit **data key**, stored only sealed by the platform SecretBox
 *   and bound to the subject's lookup digest;
 * - the subject's identifier is kept encrypted under the subject's own key, so that a rotation of the
 *   platform secret can recompute the digest under the new one;
 * - personal data is sealed with the subject's key (AES-256-GCM through SecretBox) and bound to its
 *   subject and row, so a ciphertext moved to another subject or row does not open.
 *
 * Destroying the sealed data key makes every ciphertext of the subject, its identifier included,
 * unreadable for good.
 *
 * Subjects recorded before identifiers were kept cannot have their digest recomputed. A rotation
 * leaves their digest as it is and keeps the lookup key it was made with, sealed under the new
 * platform secret (the **legacy lookup key**); lookups try both digests, and recording such a person
 * again moves their subject onto the current key.
 */
export class AuditSubjectCipher {
  private readonly lookupKey: Buffer;

  constructor(
    private readonly platformBox: SecretBox,
    platformSecret: Buffer,
    private readonly legacyLookupKey: Buffer | null = null,
  ) {
    this.lookupKey = Buffer.from(hkdfSync('sha256', platformSecret, Buffer.alloc(0), LOOKUP_KEY_INFO, 32));
  }

  /** A cipher whose legacy lookup key is the one stored sealed in the platform (null: none). */
  static withSealedLegacyKey(
    platformBox: SecretBox,
    platformSecret: Buffer,
    sealedLegacyKey: string | null,
  ): AuditSubjectCipher {
    const legacy =
      sealedLegacyKey === null
        ? null
        : Buffer.from(platformBox.open(sealedLegacyKey, AUDIT_LEGACY_LOOKUP_KEY_AAD), 'base64');
    return new AuditSubjectCipher(platformBox, platformSecret, legacy);
  }

  /** The digest a subject is filed under from now on: under the current platform secret. */
  lookupDigest(identifier: string): Buffer {
    return hmac(this.lookupKey, identifier);
  }

  /** Every digest a subject of `identifier` may be filed under: the current one, then the legacy one. */
  lookupDigests(identifier: string): Buffer[] {
    const current = this.lookupDigest(identifier);
    return this.legacyLookupKey ? [current, hmac(this.legacyLookupKey, identifier)] : [current];
  }

  /** A fresh data key for a new subject, and its sealed form to store. */
  newSubjectKey(lookupDigest: Buffer): { key: Buffer; sealed: string } {
    const key = randomBytes(32);
    return { key, sealed: this.sealSubjectKey(key, lookupDigest) };
  }

  sealSubjectKey(key: Buffer, lookupDigest: Buffer): string {
    return this.platformBox.seal(key.toString('base64'), auditSubjectKeyAad(lookupDigest));
  }

  openSubjectKey(sealed: string, lookupDigest: Buffer): Buffer {
    return Buffer.from(this.platformBox.open(sealed, auditSubjectKeyAad(lookupDigest)), 'base64');
  }

  /** The identifier, encrypted under the subject's own key: gone with the key when the subject is erased. */
  encryptIdentifier(key: Buffer, identifier: string): string {
    return new SecretBox(key).seal(identifier, IDENTIFIER_AAD);
  }

  decryptIdentifier(key: Buffer, ciphertext: string): string {
    return new SecretBox(key).open(ciphertext, IDENTIFIER_AAD);
  }

  sealPersonalData(key: Buffer, data: Record<string, string>, row: PersonalDataRow): string {
    return new SecretBox(key).seal(JSON.stringify(data), personalDataAad(row));
  }

  openPersonalData(key: Buffer, ciphertext: string, row: PersonalDataRow): Record<string, string> {
    return JSON.parse(new SecretBox(key).open(ciphertext, personalDataAad(row))) as Record<string, string>;
  }

  /**
   * The cipher of the platform secret `next`, for a rotation: subjects whose digest cannot be
   * recomputed (`legacySubjects` > 0) keep theirs, so it keeps the lookup key those were made with.
   */
  successor(next: Buffer, legacySubjects: number): AuditSubjectCipher {
    const legacy = legacySubjects > 0 ? (this.legacyLookupKey ?? this.lookupKey) : null;
    return new AuditSubjectCipher(new SecretBox(next), next, legacy);
  }

  /** The legacy lookup key sealed for `platform.secret_key_check`, or null when there is none. */
  sealedLegacyKey(): string | null {
    return this.legacyLookupKey
      ? this.platformBox.seal(this.legacyLookupKey.toString('base64'), AUDIT_LEGACY_LOOKUP_KEY_AAD)
      : null;
  }
}

/** Where a ciphertext belongs: its subject and its row (the entry's reference and its position there). */
export interface PersonalDataRow {
  subjectId: string;
  ref: string;
  position: number;
}

function hmac(key: Buffer, identifier: string): Buffer {
  return createHmac('sha256', key).update(identifier, 'utf8').digest();
}

function personalDataAad(row: PersonalDataRow): string {
  return `townhall/audit-personal-data/v1:${row.subjectId}:${row.ref}:${row.position}`;
}
