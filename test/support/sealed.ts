import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import { Client } from 'pg';

/**
 * The platform's sealed secrets read and written as docs/operations.md and docs/compliance.md describe
 * them, written out here rather than taken from the code under test, so that a test notices a binding,
 * a derivation or a format the code gets wrong.
 */

/** How many sealed values of each kind a key opened (see `openEverything`). */
export interface OpenedSecrets {
  signingKeys: number;
  keyPool: number;
  tenantActorKeys: number;
  /** Live audit period keys. */
  periodKeys: number;
  subjects: number;
  personalData: number;
  legacyLookupKey: boolean;
}

/** HKDF-SHA256 with no salt. */
export function hkdf(key: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
}

/** The subkey of the platform's secret key for `purpose`. */
export function subkey(key: Buffer, purpose: string): Buffer {
  return hkdf(key, `townhall/secret-key/${purpose}/v2`);
}

/** Opens a sealed value: `v2` (padded) or `v1` (as it is), AES-256-GCM with a 12-byte IV and 16-byte tag. */
export function openSealed(key: Buffer, sealed: string, aad: string): string {
  const [version, iv, tag, body] = sealed.split(':');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
  if (version === 'v1') return plain.toString('utf8');
  if (version !== 'v2') throw new Error(`unknown version ${version}`);
  const end = plain.lastIndexOf(0x80);
  if (end < 0 || plain.subarray(end + 1).some((b) => b !== 0)) throw new Error('bad padding');
  return plain.subarray(0, end).toString('utf8');
}

/** Seals as installations before padding and subkeys did: `v1`, the plaintext as it is. */
export function sealUnpadded(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64')))
    .join(':');
}

/** The two keys derived from an audit period key. */
export function periodSubkeys(periodKey: Buffer): { wrap: Buffer; lookup: Buffer } {
  return {
    wrap: hkdf(periodKey, 'townhall/audit-period-key/wrap/v1'),
    lookup: hkdf(periodKey, 'townhall/audit-period-key/lookup/v1'),
  };
}

export function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

/** The live audit period keys, opened with the platform's secret key `key`, by id. */
export async function openPeriodKeys(db: Client, key: Buffer): Promise<Map<string, Buffer>> {
  const { rows } = await db.query<{ id: string; key_sealed: string }>(
    `SELECT id::text AS id, key_sealed FROM platform.audit_period_keys WHERE key_sealed IS NOT NULL`,
  );
  return new Map(
    rows.map((r) => [
      r.id,
      Buffer.from(
        openSealed(subkey(key, 'audit-period-keys'), r.key_sealed, `platform.audit_period_keys:${r.id}`),
        'base64',
      ),
    ]),
  );
}

/**
 * Opens every secret the platform stores with `key`, reading the tables directly as the test's
 * superuser, and throws at the first that does not open. An audit subject whose identifier is kept
 * must also be filed under that identifier's digest under its period key (or, for subjects recorded
 * before identifiers were kept, the stored legacy lookup key's).
 */
export async function openEverything(db: Client, key: Buffer): Promise<OpenedSecrets> {
  const opened: OpenedSecrets = {
    signingKeys: 0,
    keyPool: 0,
    tenantActorKeys: 0,
    periodKeys: 0,
    subjects: 0,
    personalData: 0,
    legacyLookupKey: false,
  };
  const actorKeys = subkey(key, 'actor-keys');
  const signing = await db.query<{ key_id: string; public_key_pem: string; private_key_sealed: string }>(
    `SELECT key_id, public_key_pem, private_key_sealed FROM platform.audit_signing_keys
      WHERE private_key_sealed IS NOT NULL`,
  );
  for (const row of signing.rows) {
    const pem = openSealed(
      subkey(key, 'audit-signing-keys'),
      row.private_key_sealed,
      `platform.audit_signing_keys:${row.key_id}`,
    );
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
    openSealed(actorKeys, row.private_key_sealed, 'platform.actor_key_pool');
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
      openSealed(actorKeys, row.private_key_sealed, `${schema}:${row.key_id}`);
      opened.tenantActorKeys++;
    }
  }
  const check = await db.query<{ legacy: string | null }>(
    `SELECT audit_legacy_lookup_key_sealed AS legacy FROM platform.secret_key_check`,
  );
  const legacySealed = check.rows[0]?.legacy ?? null;
  const legacyKey =
    legacySealed === null
      ? null
      : Buffer.from(
          openSealed(
            subkey(key, 'audit-legacy-lookup-key'),
            legacySealed,
            'platform.secret_key_check:audit_legacy_lookup_key',
          ),
          'base64',
        );
  opened.legacyLookupKey = legacyKey !== null;
  const periods = await openPeriodKeys(db, key);
  opened.periodKeys = periods.size;
  const subjects = await db.query<{
    id: string;
    lookup_digest: Buffer;
    key_sealed: string;
    identifier_ciphertext: string | null;
    period_key_id: string;
  }>(
    `SELECT id::text AS id, lookup_digest, key_sealed, identifier_ciphertext, period_key_id::text AS period_key_id
       FROM platform.audit_subjects WHERE key_sealed IS NOT NULL`,
  );
  const subjectKeys = new Map<string, Buffer>();
  for (const row of subjects.rows) {
    const periodKey = periods.get(row.period_key_id);
    if (!periodKey)
      throw new Error(
        `subject ${row.id} is wrapped under period key ${row.period_key_id}, which is not live`,
      );
    const { wrap, lookup } = periodSubkeys(periodKey);
    const subjectKey = Buffer.from(
      openSealed(wrap, row.key_sealed, `townhall/audit-subject-key/v2:${row.id}:${row.period_key_id}`),
      'base64',
    );
    // A subject recorded before identifiers were kept is filed under the legacy lookup key; others
    // under their period key's lookup key.
    if (row.identifier_ciphertext === null) {
      if (!legacyKey)
        throw new Error(`subject ${row.id} has no identifier and there is no legacy lookup key`);
    } else {
      const identifier = openSealed(
        subjectKey,
        row.identifier_ciphertext,
        'townhall/audit-subject-identifier/v1',
      );
      if (!hmac(lookup, identifier).equals(row.lookup_digest))
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
    openSealed(
      subjectKey,
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

/**
 * Turns the platform's stored secrets back into what an installation from before subkeys and period
 * keys held (check format `townhall-secret-key-check/v1`): every secret sealed with `key` itself and
 * unpadded (`v1`), audit subject keys sealed with `key` and bound to their lookup digest, digests under
 * the lookup key derived from `key`, no period keys; personal data re-encrypted unpadded under the
 * same subject keys. `legacy`: subjects (ids) to turn into ones recorded before identifiers were kept.
 */
export async function sealAsBeforeSubkeys(db: Client, key: Buffer, legacy: string[] = []): Promise<void> {
  const actorKeys = subkey(key, 'actor-keys');
  const reseal = async (
    table: string,
    keyColumn: string,
    aad: (row: Record<string, string>) => string,
    from: Buffer,
  ) => {
    const { rows } = await db.query<Record<string, string>>(
      `SELECT *, ${keyColumn}::text AS row_key FROM ${table}`,
    );
    for (const row of rows) {
      const sealed = sealUnpadded(key, openSealed(from, row.private_key_sealed, aad(row)), aad(row));
      await db.query(`UPDATE ${table} SET private_key_sealed = $1 WHERE ${keyColumn}::text = $2`, [
        sealed,
        row.row_key,
      ]);
    }
  };
  await reseal(
    'platform.audit_signing_keys',
    'key_id',
    (r) => `platform.audit_signing_keys:${r.key_id}`,
    subkey(key, 'audit-signing-keys'),
  );
  await reseal('platform.actor_key_pool', 'id', () => 'platform.actor_key_pool', actorKeys);
  const schemas = await db.query<{ schema: string }>(
    `SELECT schema_name AS schema FROM platform.tenants WHERE to_regclass(schema_name || '.actor_keys') IS NOT NULL`,
  );
  for (const { schema } of schemas.rows) {
    await reseal(`${schema}.actor_keys`, 'account_id', (r) => `${schema}:${r.key_id}`, actorKeys);
  }
  const periods = await openPeriodKeys(db, key);
  const directLookup = hkdf(key, 'townhall/audit-subject-lookup/v1');
  const subjects = await db.query<{
    id: string;
    key_sealed: string;
    identifier_ciphertext: string;
    period_key_id: string;
  }>(
    `SELECT id::text AS id, key_sealed, identifier_ciphertext, period_key_id::text AS period_key_id
       FROM platform.audit_subjects WHERE key_sealed IS NOT NULL`,
  );
  for (const row of subjects.rows) {
    const { wrap } = periodSubkeys(periods.get(row.period_key_id)!);
    const subjectKey = Buffer.from(
      openSealed(wrap, row.key_sealed, `townhall/audit-subject-key/v2:${row.id}:${row.period_key_id}`),
      'base64',
    );
    const identifier = openSealed(
      subjectKey,
      row.identifier_ciphertext,
      'townhall/audit-subject-identifier/v1',
    );
    const digest = hmac(directLookup, identifier);
    await db.query(
      `UPDATE platform.audit_subjects SET lookup_digest = $2, key_sealed = $3, identifier_ciphertext = $4,
              period_key_id = NULL WHERE id = $1`,
      [
        row.id,
        digest,
        sealUnpadded(
          key,
          subjectKey.toString('base64'),
          `townhall/audit-subject-key/v1:${digest.toString('base64')}`,
        ),
        legacy.includes(row.id)
          ? null
          : sealUnpadded(subjectKey, identifier, 'townhall/audit-subject-identifier/v1'),
      ],
    );
    const personal = await db.query<{ ref: string; position: number; ciphertext: string }>(
      `SELECT record_ref::text AS ref, position, ciphertext FROM platform.audit_personal_data WHERE subject_id = $1`,
      [row.id],
    );
    for (const p of personal.rows) {
      const aad = `townhall/audit-personal-data/v1:${row.id}:${p.ref}:${p.position}`;
      await db.query(
        `UPDATE platform.audit_personal_data SET ciphertext = $3 WHERE record_ref = $1 AND position = $2`,
        [p.ref, p.position, sealUnpadded(subjectKey, openSealed(subjectKey, p.ciphertext, aad), aad)],
      );
    }
  }
  await db.query(`UPDATE platform.audit_subjects SET period_key_id = NULL`);
  await db.query(`DELETE FROM platform.audit_period_keys`);
  await db.query(
    `UPDATE platform.secret_key_check SET format = 'townhall-secret-key-check/v1', audit_legacy_lookup_key_sealed = NULL`,
  );
}
