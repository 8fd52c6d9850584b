import { createHmac, createPrivateKey, createPublicKey, hkdfSync } from 'node:crypto';
import { Client } from 'pg';
import { SecretBox } from '@townhall/core';

/** How many sealed values of each kind a key opened (see `openEverything`). */
export interface OpenedSecrets {
  signingKeys: number;
  keyPool: number;
  tenantActorKeys: number;
  subjects: number;
  personalData: number;
  legacyLookupKey: boolean;
}

/**
 * Opens every secret the platform stores with `key`, reading the tables directly as the test's
 * superuser, and throws at the first that does not open. The bindings are written out here rather
 * than taken from the code under test, so the test notices a binding the code gets wrong. An audit
 * subject whose identifier is kept must also be filed under that identifier's digest for `key`
 * (or, for subjects recorded before identifiers were kept, the stored legacy lookup key's).
 */
export async function openEverything(db: Client, key: Buffer): Promise<OpenedSecrets> {
  const box = new SecretBox(key);
  const opened: OpenedSecrets = {
    signingKeys: 0,
    keyPool: 0,
    tenantActorKeys: 0,
    subjects: 0,
    personalData: 0,
    legacyLookupKey: false,
  };
  const signing = await db.query<{ key_id: string; public_key_pem: string; private_key_sealed: string }>(
    `SELECT key_id, public_key_pem, private_key_sealed FROM platform.audit_signing_keys
      WHERE private_key_sealed IS NOT NULL`,
  );
  for (const row of signing.rows) {
    const pem = box.open(row.private_key_sealed, `platform.audit_signing_keys:${row.key_id}`);
    const publicPem = createPublicKey(createPrivateKey(pem))
      .export({ type: 'spki', format: 'pem' })
      .toString();
    if (publicPem.trim() !== row.public_key_pem.trim()) throw new Error(`signing key ${row.key_id} changed`);
    opened.signingKeys++;
  }
  const pool = await db.query<{ private_key_sealed: string }>(
    `SELECT private_key_sealed FROM platform.actor_key_pool`,
  );
  for (const row of pool.rows) {
    box.open(row.private_key_sealed, 'platform.actor_key_pool');
    opened.keyPool++;
  }
  const schemas = await db.query<{ schema: string }>(
    `SELECT schema_name AS schema FROM platform.tenants WHERE to_regclass(schema_name || '.actor_keys') IS NOT NULL`,
  );
  for (const { schema } of schemas.rows) {
    const keys = await db.query<{ key_id: string; private_key_sealed: string }>(
      `SELECT key_id, private_key_sealed FROM ${schema}.actor_keys`,
    );
    for (const row of keys.rows) {
      box.open(row.private_key_sealed, `${schema}:${row.key_id}`);
      opened.tenantActorKeys++;
    }
  }
  // Also on a schema from before the key check, so that a test fails at its own assertion there.
  const [{ checked }] = (
    await db.query<{ checked: boolean }>(
      `SELECT to_regclass('platform.secret_key_check') IS NOT NULL AS checked`,
    )
  ).rows;
  const check = checked
    ? await db.query<{ legacy: string | null }>(
        `SELECT audit_legacy_lookup_key_sealed AS legacy FROM platform.secret_key_check`,
      )
    : { rows: [] };
  const legacySealed = check.rows[0]?.legacy ?? null;
  const legacyKey =
    legacySealed === null
      ? null
      : Buffer.from(box.open(legacySealed, 'platform.secret_key_check:audit_legacy_lookup_key'), 'base64');
  opened.legacyLookupKey = legacyKey !== null;
  const lookupKey = Buffer.from(
    hkdfSync('sha256', key, Buffer.alloc(0), 'townhall/audit-subject-lookup/v1', 32),
  );
  const subjects = await db.query<{
    id: string;
    lookup_digest: Buffer;
    key_sealed: string;
    identifier_ciphertext: string | null;
  }>(
    `SELECT id::text AS id, lookup_digest, key_sealed, to_jsonb(s) ->> 'identifier_ciphertext' AS identifier_ciphertext
       FROM platform.audit_subjects s WHERE key_sealed IS NOT NULL`,
  );
  const subjectKeys = new Map<string, Buffer>();
  for (const row of subjects.rows) {
    const subjectKey = Buffer.from(
      box.open(row.key_sealed, `townhall/audit-subject-key/v1:${row.lookup_digest.toString('base64')}`),
      'base64',
    );
    if (row.identifier_ciphertext !== null) {
      const identifier = new SecretBox(subjectKey).open(
        row.identifier_ciphertext,
        'townhall/audit-subject-identifier/v1',
      );
      const digest = createHmac('sha256', lookupKey).update(identifier).digest();
      if (!digest.equals(row.lookup_digest))
        throw new Error(`subject ${row.id} is not filed under its digest`);
    }
    subjectKeys.set(row.id, subjectKey);
    opened.subjects++;
  }
  const personal = await db.query<{ ref: string; position: number; subject: string; ciphertext: string }>(
    `SELECT record_ref::text AS ref, position, subject_id::text AS subject, ciphertext
       FROM platform.audit_personal_data`,
  );
  for (const row of personal.rows) {
    const subjectKey = subjectKeys.get(row.subject);
    if (!subjectKey) continue; // erased
    new SecretBox(subjectKey).open(
      row.ciphertext,
      `townhall/audit-personal-data/v1:${row.subject}:${row.ref}:${row.position}`,
    );
    opened.personalData++;
  }
  return opened;
}

/** Whether `key` opens everything (see `openEverything`), for tests that expect exactly one key to. */
export async function opensEverything(db: Client, key: Buffer): Promise<boolean> {
  return openEverything(db, key).then(
    () => true,
    () => false,
  );
}
