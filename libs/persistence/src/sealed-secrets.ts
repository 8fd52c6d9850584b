/**
 * Every value stored sealed with the platform's secret key (TOWNHALL_SECRET_KEY, through SecretBox), and
 * the associated data each one is bound to. The code that seals, the start-up check that proves a key
 * on an installation without a key check value, and key rotation all take the binding from here, so
 * they cannot disagree. A migration that adds a sealed column adds it here in the same change: the
 * secret-key test refuses a column named `*_sealed` that this file does not know.
 */

export const ACTOR_KEY_POOL_AAD = 'platform.actor_key_pool';

/** A tenant's actor key, bound to its schema and key id. */
export function actorKeyAad(schema: string, keyId: string): string {
  return `${schema}:${keyId}`;
}

export function auditSigningKeyAad(keyId: string): string {
  return `platform.audit_signing_keys:${keyId}`;
}

/** An audit subject's data key, bound to the subject's lookup digest. */
export function auditSubjectKeyAad(lookupDigest: Buffer): string {
  return `townhall/audit-subject-key/v1:${lookupDigest.toString('base64')}`;
}

/** The lookup key of audit subjects recorded before their identifiers were kept (see AuditSubjectCipher). */
export const AUDIT_LEGACY_LOOKUP_KEY_AAD = 'platform.secret_key_check:audit_legacy_lookup_key';

/** A column of sealed values that rotation re-seals as they are: same plaintext, same binding. */
export interface SealedColumn {
  /** What the values are, for people: progress lines and messages. */
  label: string;
  /** Schema-qualified for a platform table; unqualified for a table of every tenant schema. */
  table: string;
  column: string;
  /** The row's key, to read and update in batches in key order; `type` casts it back from text. */
  key: { column: string; type: 'bigint' | 'text' };
  /** Other columns the binding needs. */
  aadColumns: readonly string[];
  /** The associated data of a row (`schema`: the tenant schema, for tenant tables). */
  aad(row: Record<string, string>, schema: string): string;
}

export const PLATFORM_SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    label: 'audit signing keys',
    table: 'platform.audit_signing_keys',
    column: 'private_key_sealed',
    key: { column: 'key_id', type: 'text' },
    aadColumns: [],
    aad: (row) => auditSigningKeyAad(row.key_id),
  },
  {
    label: 'pre-generated actor keys',
    table: 'platform.actor_key_pool',
    column: 'private_key_sealed',
    key: { column: 'id', type: 'bigint' },
    aadColumns: [],
    aad: () => ACTOR_KEY_POOL_AAD,
  },
];

export const TENANT_SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    label: 'tenant actor keys',
    table: 'actor_keys',
    column: 'private_key_sealed',
    key: { column: 'account_id', type: 'bigint' },
    aadColumns: ['key_id'],
    aad: (row, schema) => actorKeyAad(schema, row.key_id),
  },
];

/**
 * Sealed with the platform key but not re-sealed as they are: an audit subject's key is bound to its
 * lookup digest, which is itself derived from the platform key, and the legacy lookup key may be
 * created by a rotation. The audit library re-keys both (`rekeyAuditSubjects`).
 */
export const REKEYED_SEALED_COLUMNS = [
  'platform.audit_subjects.key_sealed',
  'platform.secret_key_check.audit_legacy_lookup_key_sealed',
] as const;
