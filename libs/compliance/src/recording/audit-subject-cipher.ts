import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { SecretBox, SecretKeyring } from '@townhall/core';
import {
  AUDIT_LEGACY_LOOKUP_KEY_AAD,
  auditPeriodKeyAad,
  auditSubjectKeyAad,
  directAuditSubjectKeyAad,
} from '@townhall/persistence';

const WRAP_INFO = 'townhall/audit-period-key/wrap/v1';
const LOOKUP_INFO = 'townhall/audit-period-key/lookup/v1';
/** How installations before period keys derived the lookup key, from the secret key itself. */
const DIRECT_LOOKUP_INFO = 'townhall/audit-subject-lookup/v1';
const IDENTIFIER_AAD = 'townhall/audit-subject-identifier/v1';

/** A period key, opened: the two keys derived from it. */
export interface OpenPeriodKey {
  id: string;
  /** Wraps the data keys of the subjects of this period. */
  wrap: SecretBox;
  /** Keys the lookup digests of the subjects of this period. */
  lookup: Buffer;
}

/**
 * The cryptography of the personal-data side table (docs/compliance.md):
 *
 * - a **period key** is 32 random bytes made for a period (a month), stored sealed with the secret
 *   key's `audit-period-keys` subkey. Two keys are derived from it with HKDF-SHA256: one wraps subject
 *   keys, one keys lookup digests. Destroying it makes everything wrapped or filed under it useless to
 *   whoever holds an old copy of a row and the secret key;
 * - a subject's **lookup digest** is HMAC-SHA256 of its identifier under the lookup key of the period
 *   key its data key is wrapped under, so the same person maps to the same subject without the
 *   identifier being stored in clear, and guesses can be tested only while that period key exists;
 * - each subject has its own random 256-bit **data key**, stored only wrapped under a period key and
 *   bound to the subject and that period key;
 * - the subject's identifier is kept encrypted under the subject's own key, so that the digest can be
 *   recomputed when the subject moves to a newer period key;
 * - personal data is sealed with the subject's key (AES-256-GCM through SecretBox, padded) and bound to
 *   its subject and row, so a ciphertext moved to another subject or row does not open.
 *
 * Destroying the wrapped data key makes every ciphertext of the subject, its identifier included,
 * unreadable for good once no copy of that wrapping survives with its period key.
 *
 * Subjects recorded before identifiers were kept cannot have their digest recomputed: they keep it,
 * under the lookup key it was made with (the **legacy lookup key**, stored sealed with the secret key's
 * `audit-legacy-lookup-key` subkey); lookups try it too, and recording such a person again moves the
 * subject's digest onto its period key.
 */
export class AuditSubjectCipher {
  private readonly periodKeys: SecretBox;
  private readonly locks: Buffer;

  constructor(
    private readonly keyring: SecretKeyring,
    private readonly legacyLookupKey: Buffer | null = null,
  ) {
    this.periodKeys = keyring.box('audit-period-keys');
    this.locks = keyring.subkey('audit-subject-locks');
  }

  /** A cipher whose legacy lookup key is the one stored sealed in the platform (null: none). */
  static withSealedLegacyKey(keyring: SecretKeyring, sealedLegacyKey: string | null): AuditSubjectCipher {
    const legacy =
      sealedLegacyKey === null
        ? null
        : Buffer.from(
            keyring.box('audit-legacy-lookup-key').open(sealedLegacyKey, AUDIT_LEGACY_LOOKUP_KEY_AAD),
            'base64',
          );
    return new AuditSubjectCipher(keyring, legacy);
  }

  /** A fresh period key for the row `id`, sealed to store. */
  newPeriodKey(id: string): string {
    return this.periodKeys.seal(randomBytes(32).toString('base64'), auditPeriodKeyAad(id));
  }

  openPeriodKey(id: string, sealed: string): OpenPeriodKey {
    const key = Buffer.from(this.periodKeys.open(sealed, auditPeriodKeyAad(id)), 'base64');
    return { id, wrap: new SecretBox(derive(key, WRAP_INFO)), lookup: derive(key, LOOKUP_INFO) };
  }

  /** The digest `identifier` is filed under in `period`. */
  lookupDigest(period: OpenPeriodKey, identifier: string): Buffer {
    return hmac(period.lookup, identifier);
  }

  /** The digest a subject recorded before identifiers were kept may be filed under; null: none left. */
  legacyLookupDigest(identifier: string): Buffer | null {
    return this.legacyLookupKey ? hmac(this.legacyLookupKey, identifier) : null;
  }

  /** A fresh data key for a new subject. */
  newSubjectKey(): Buffer {
    return randomBytes(32);
  }

  wrapSubjectKey(period: OpenPeriodKey, subjectId: string, key: Buffer): string {
    return period.wrap.seal(key.toString('base64'), auditSubjectKeyAad(subjectId, period.id));
  }

  unwrapSubjectKey(period: OpenPeriodKey, subjectId: string, wrapped: string): Buffer {
    return Buffer.from(period.wrap.open(wrapped, auditSubjectKeyAad(subjectId, period.id)), 'base64');
  }

  /**
   * The advisory lock that serialises transactions meeting `identifier` for the first time, as a
   * bigint in text: keyed, so the number in `pg_locks` says nothing about the person.
   */
  lockNumber(identifier: string): string {
    return hmac(this.locks, identifier).readBigInt64BE(0).toString();
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

  /** The cipher of another secret key (a rotation), with the same legacy lookup key. */
  successor(next: SecretKeyring): AuditSubjectCipher {
    return new AuditSubjectCipher(next, this.legacyLookupKey);
  }

  /** This cipher without a legacy lookup key, once no subject needs it. */
  withoutLegacyLookupKey(): AuditSubjectCipher {
    return new AuditSubjectCipher(this.keyring, null);
  }

  /** The legacy lookup key sealed for `platform.secret_key_check`, or null when there is none. */
  sealedLegacyKey(): string | null {
    return this.legacyLookupKey
      ? this.keyring
          .box('audit-legacy-lookup-key')
          .seal(this.legacyLookupKey.toString('base64'), AUDIT_LEGACY_LOOKUP_KEY_AAD)
      : null;
  }
}

/**
 * How installations before period keys sealed subjects (check format `townhall-secret-key-check/v1`):
 * data keys sealed with the secret key itself and bound to the lookup digest, digests under a lookup
 * key derived from the secret key, a stored legacy lookup key sealed with the secret key. Only the
 * upgrade reads it.
 */
export class DirectSubjectSealing {
  private readonly box: SecretBox;

  constructor(private readonly keyring: SecretKeyring) {
    this.box = keyring.directSealing();
  }

  openSubjectKey(sealed: string, lookupDigest: Buffer): Buffer {
    return Buffer.from(this.box.open(sealed, directAuditSubjectKeyAad(lookupDigest)), 'base64');
  }

  /** The lookup key the digests of subjects without a stored legacy key were made with. */
  lookupKey(): Buffer {
    return this.keyring.directDerivation(DIRECT_LOOKUP_INFO);
  }

  openLegacyLookupKey(sealed: string): Buffer {
    return Buffer.from(this.box.open(sealed, AUDIT_LEGACY_LOOKUP_KEY_AAD), 'base64');
  }
}

/** Where a ciphertext belongs: its subject and its row (the entry's reference and its position there). */
export interface PersonalDataRow {
  subjectId: string;
  ref: string;
  position: number;
}

function derive(key: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
}

function hmac(key: Buffer, identifier: string): Buffer {
  return createHmac('sha256', key).update(identifier, 'utf8').digest();
}

function personalDataAad(row: PersonalDataRow): string {
  return `townhall/audit-personal-data/v1:${row.subjectId}:${row.ref}:${row.position}`;
}
