import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { SecretBox } from '@townhall/core';

const LOOKUP_KEY_INFO = 'townhall/audit-subject-lookup/v1';

/**
 * The cryptography of the personal-data side table (docs/compliance.md):
 *
 * - a subject's **lookup digest** is HMAC-SHA256 of its identifier under a key derived (HKDF-SHA256)
 *   from the platform secret, so the same person maps to the same subject without the identifier being
 *   stored, and nobody without the platform secret can test guesses against the table;
 * - each subject has its own random 256-bit **data key**, stored only sealed by the platform SecretBox
 *   and bound to the subject's lookup digest;
 * - personal data is sealed with the subject's key (AES-256-GCM through SecretBox) and bound to its
 *   subject and row, so a ciphertext moved to another subject or row does not open.
 *
 * Destroying the sealed data key makes every ciphertext of the subject unreadable for good.
 */
export class AuditSubjectCipher {
  private readonly lookupKey: Buffer;

  constructor(
    private readonly platformBox: SecretBox,
    platformSecret: Buffer,
  ) {
    this.lookupKey = Buffer.from(hkdfSync('sha256', platformSecret, Buffer.alloc(0), LOOKUP_KEY_INFO, 32));
  }

  lookupDigest(identifier: string): Buffer {
    return createHmac('sha256', this.lookupKey).update(identifier, 'utf8').digest();
  }

  /** A fresh data key for a new subject, and its sealed form to store. */
  newSubjectKey(lookupDigest: Buffer): { key: Buffer; sealed: string } {
    const key = randomBytes(32);
    return { key, sealed: this.platformBox.seal(key.toString('base64'), subjectKeyAad(lookupDigest)) };
  }

  openSubjectKey(sealed: string, lookupDigest: Buffer): Buffer {
    return Buffer.from(this.platformBox.open(sealed, subjectKeyAad(lookupDigest)), 'base64');
  }

  sealPersonalData(key: Buffer, data: Record<string, string>, row: PersonalDataRow): string {
    return new SecretBox(key).seal(JSON.stringify(data), personalDataAad(row));
  }

  openPersonalData(key: Buffer, ciphertext: string, row: PersonalDataRow): Record<string, string> {
    return JSON.parse(new SecretBox(key).open(ciphertext, personalDataAad(row))) as Record<string, string>;
  }
}

/** Where a ciphertext belongs: its subject and its row (the entry's reference and its position there). */
export interface PersonalDataRow {
  subjectId: string;
  ref: string;
  position: number;
}

function subjectKeyAad(lookupDigest: Buffer): string {
  return `townhall/audit-subject-key/v1:${lookupDigest.toString('base64')}`;
}

function personalDataAad(row: PersonalDataRow): string {
  return `townhall/audit-personal-data/v1:${row.subjectId}:${row.ref}:${row.position}`;
}
