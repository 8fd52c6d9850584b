import type { SecretPurpose } from '@townhall/core';

/**
 * Every value stored sealed (SecretBox), with the subkey of the platform's secret key
 * (TOWNHALL_SECRET_KEY) it is sealed with and the associated data it is bound to. The code that seals,
 * the start-up check that proves a key on an installation without a key check value, the upgrade of
 * values sealed before subkeys, and key rotation all take the binding from here, so they cannot
 * disagree. A migration that adds a sealed column adds it here in the same change: the secret-key test
 * refuses a column named `*_sealed` that this file does not know.
 */

export const ACTOR_KEY_POOL_AAD = 'platform.actor_key_pool';

/** A tenant's actor key, bound to its schema and key id. */
export function actorKeyAad(schema: string, keyId: string): string {
  return `${schema}:${keyId}`;
}

export function auditSigningKeyAad(keyId: string): string {
  return `platform.audit_signing_keys:${keyId}`;
}

/** An audit period key (see AuditSubjectCipher), bound to its row. */
export function auditPeriodKeyAad(periodKeyId: string): string {
  return `platform.audit_period_keys:${periodKeyId}`;
}

/** An audit subject's data key, wrapped under a period key: bound to the subject and that period key. */
export function auditSubjectKeyAad(subjectId: string, periodKeyId: string): string {
  return `townhall/audit-subject-key/v2:${subjectId}:${periodKeyId}`;
}

/**
 * An audit subject's data key as installations sealed it before period keys: with the secret key
 * itself, bound to the subject's lookup digest. Only the upgrade opens it.
 */
export function directAuditSubjectKeyAad(lookupDigest: Buffer): string {
  return `townhall/audit-subject-key/v1:${lookupDigest.toString('base64')}`;
}

/** The lookup key of audit subjects recorded before their identifiers were kept (see AuditSubjectCipher). */
export const AUDIT_LEGACY_LOOKUP_KEY_AAD = 'platform.secret_key_check:audit_legacy_lookup_key';

/** A column of sealed values that rotation re-seals as they are: same plaintext, same binding. */
export interface SealedColumn {
  /** What the values are, for people: progress lines and messages. */
  label: string;
  /** The subkey of the platform's secret key that seals them. */
  purpose: SecretPurpose;
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
    purpose: 'audit-signing-keys',
    table: 'platform.audit_signing_keys',
    column: 'private_key_sealed',
    key: { column: 'key_id', type: 'text' },
    aadColumns: [],
    aad: (row) => auditSigningKeyAad(row.key_id),
  },
  {
    label: 'pre-generated actor keys',
    purpose: 'actor-keys',
    table: 'platform.actor_key_pool',
    column: 'private_key_sealed',
    key: { column: 'id', type: 'bigint' },
    aadColumns: [],
    aad: () => ACTOR_KEY_POOL_AAD,
  },
  {
    label: 'audit period keys',
    purpose: 'audit-period-keys',
    table: 'platform.audit_period_keys',
    column: 'key_sealed',
    key: { column: 'id', type: 'bigint' },
    aadColumns: [],
    aad: (row) => auditPeriodKeyAad(row.id),
  },
];

export const TENANT_SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    label: 'tenant actor keys',
    purpose: 'actor-keys',
    table: 'actor_keys',
    column: 'private_key_sealed',
    key: { column: 'account_id', type: 'bigint' },
    aadColumns: ['key_id'],
    aad: (row, schema) => actorKeyAad(schema, row.key_id),
  },
];

/**
 * Sealed, but not re-sealed as they are by a rotation of the secret key:
 *
 * - the legacy lookup key lives in the key check row, which the rotation replaces: it is sealed again
 *   with the new key's `audit-legacy-lookup-key` subkey there;
 * - an audit subject's data key is wrapped under a period key, not under the secret key: a rotation
 *   leaves it as it is (the period keys above are re-sealed), and the rotation of period keys
 *   (`RotateAuditPeriodKeys`) wraps it again.
 */
export const OTHER_SEALED_COLUMNS = [
  'platform.secret_key_check.audit_legacy_lookup_key_sealed',
  'platform.audit_subjects.key_sealed',
] as const;
