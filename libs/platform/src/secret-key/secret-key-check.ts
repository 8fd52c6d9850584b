import { Client } from 'pg';
import { AuditSubjectCipher, newestPeriodKey, startPeriodIfDue } from '@townhall/compliance';
import {
  compareSecretKeyCheck,
  DIRECT_SEALING_CHECK_FORMAT,
  resolveSecretKey,
  SecretKeyring,
  secretKeyCheck,
  secretKeyId,
  secretKeySource,
  type SecretKeyCheck,
  type TownhallConfig,
} from '@townhall/core';
import {
  applicationDatabaseUrl,
  directAuditSubjectKeyAad,
  PLATFORM_SEALED_COLUMNS,
  quoteIdent,
  TENANT_SEALED_COLUMNS,
  type SealedColumn,
} from '@townhall/persistence';
import { upgradeToSubkeys } from './upgrade-sealing';

/** What every refusal of a key ends with: the one thing to do. */
export const SECRET_KEY_ADVICE =
  'start with the key this platform was set up with; to change keys, use `townhall secret-key rotate` (docs/operations.md, "The secret key")';

/** The stored check value as `platform.secret_key_check` holds it. */
export interface StoredSecretKeyCheck extends SecretKeyCheck {
  createdAt: Date;
}

/** A client of either kind: `pg` (rows in `.rows`) or TypeORM (rows as the result). */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

export async function select<T>(q: Queryable, sql: string, parameters?: unknown[]): Promise<T[]> {
  const result = (await q.query(sql, parameters)) as { rows?: T[] } | T[];
  return Array.isArray(result) ? result : (result.rows ?? []);
}

/** Reads the platform's key check value; `lock` waits for, and holds off, a rotation in progress. */
export async function readSecretKeyCheck(
  q: Queryable,
  lock: 'FOR SHARE' | 'FOR UPDATE',
): Promise<StoredSecretKeyCheck | null> {
  const [row] = await select<{ format: string; key_id: string; check_value: Buffer; created_at: Date }>(
    q,
    `SELECT format, key_id, check_value, created_at FROM platform.secret_key_check WHERE id = 1 ${lock}`,
  );
  return row
    ? { format: row.format, keyId: row.key_id, value: row.check_value, createdAt: row.created_at }
    : null;
}

/**
 * Why `key` must not run this platform, in one line, or null when it may: the platform's data is sealed
 * with another key, or its check value was written by a version with another scheme.
 */
export function secretKeyProblem(
  config: Pick<TownhallConfig, 'secretKey' | 'dataDir'>,
  key: Buffer,
  stored: StoredSecretKeyCheck,
): string | null {
  switch (compareSecretKeyCheck(key, stored)) {
    case 'match':
      return null;
    case 'unknown-format':
      return `the platform's secret key check has the format "${stored.format}", which this version of Townhall does not know: run the version that wrote it, or a later one`;
    case 'mismatch':
      return (
        `${secretKeySource(config)} (key id ${secretKeyId(key)}) is not the key this platform's data is sealed with ` +
        `(key id ${stored.keyId}, in use since ${stored.createdAt.toISOString()}): ${SECRET_KEY_ADVICE}`
      );
  }
}

/**
 * The start-up check of the platform's secret key (preparePlatform), as the owner: a platform that has
 * recorded its key's check value accepts only that key. One that has none yet — a fresh installation,
 * or one from before the check existed — records it, but only after the key has opened one of the
 * secrets already stored, if there is any. An installation whose secrets the key sealed directly
 * (check format `…/v1`) is upgraded to per-purpose subkeys and period keys, in one transaction
 * (`upgradeToSubkeys`). Last, the audit log gets its first period key if it has none. `client` is the
 * owner's. Returns the problem in one line, or null.
 */
export async function checkSecretKey(
  client: Client,
  config: TownhallConfig,
  log: (line: string) => void,
): Promise<string | null> {
  const key = resolveSecretKey(config);
  const keyring = new SecretKeyring(key);
  const exists = await client.query(
    `SELECT to_regclass('platform.secret_key_check') IS NOT NULL
            AND to_regclass('platform.audit_period_keys') IS NOT NULL AS ok`,
  );
  if (!(exists.rows[0] as { ok: boolean }).ok) {
    return 'the secret key cannot be checked before the platform migrations are applied: start once with migrations, or run `townhall migrate`';
  }
  let stored: StoredSecretKeyCheck;
  await client.query('BEGIN');
  try {
    // A rotation holds the row: a start waits for it, then sees the key it left.
    const found = await readSecretKeyCheck(client, 'FOR SHARE');
    if (found) stored = found;
    else {
      const sample = await firstSealedValue(client, config);
      if (sample !== null && !opens(keyring, sample)) {
        return `${secretKeySource(config)} (key id ${secretKeyId(key)}) does not open the ${sample.label} this platform already stores: ${SECRET_KEY_ADVICE}`;
      }
      const check = secretKeyCheck(key);
      const format = sample?.sealed.startsWith('v1:') ? DIRECT_SEALING_CHECK_FORMAT : check.format;
      // Two processes starting at once record one check value; the other compares with it below.
      const inserted = await client.query(
        `INSERT INTO platform.secret_key_check (id, format, key_id, check_value) VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO NOTHING`,
        [format, check.keyId, check.value],
      );
      if (inserted.rowCount === 1) log(`Recorded the secret key's check value (key id ${check.keyId})`);
      stored = (await readSecretKeyCheck(client, 'FOR SHARE'))!;
    }
    const problem = secretKeyProblem(config, key, stored);
    if (problem) return problem;
  } finally {
    await client.query('COMMIT');
  }
  if (stored.format === DIRECT_SEALING_CHECK_FORMAT) {
    const refused = await upgradeToSubkeys(client, config, keyring, log);
    if (refused) return refused;
  }
  await ensurePeriodKey(client, keyring);
  return null;
}

/** The audit log's first period key, unless there is one (a fresh installation, or one just upgraded). */
async function ensurePeriodKey(client: Client, keyring: SecretKeyring): Promise<void> {
  const cipher = new AuditSubjectCipher(keyring);
  if (await newestPeriodKey(client, cipher)) return;
  await client.query('BEGIN');
  try {
    await startPeriodIfDue(client, cipher, new Date());
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** A stored secret, with what opening it needs. */
interface StoredSecret {
  label: string;
  sealed: string;
  aad: string;
  /** The subkey it is sealed with, when it is sealed the current way (`v2:`); null for a subject key. */
  purpose: SealedColumn['purpose'] | null;
}

/**
 * Whether `keyring` opens `secret`: a value sealed before subkeys (`v1:`) with the key itself, a
 * current one with its purpose's subkey.
 */
function opens(keyring: SecretKeyring, secret: StoredSecret): boolean {
  try {
    if (secret.sealed.startsWith('v1:')) keyring.directSealing().open(secret.sealed, secret.aad);
    else if (secret.purpose !== null) keyring.box(secret.purpose).open(secret.sealed, secret.aad);
    else return true;
    return true;
  } catch {
    return false;
  }
}

/**
 * For a platform without a check value: the first secret found, or null when nothing is stored yet.
 * One is enough: everything was sealed with one key.
 */
async function firstSealedValue(owner: Client, config: TownhallConfig): Promise<StoredSecret | null> {
  for await (const secret of storedSecrets(owner, config)) return secret;
  return null;
}

/**
 * One stored secret of each kind, the cheapest to find first; tenant schemas are read as their owner,
 * the application role. Audit subject keys count only as they were sealed before period keys: since,
 * they are wrapped under a period key, itself among the platform's sealed columns.
 */
async function* storedSecrets(owner: Client, config: TownhallConfig): AsyncGenerator<StoredSecret> {
  for (const column of PLATFORM_SEALED_COLUMNS) {
    const row = await sampleRow(owner, column, null);
    if (row)
      yield {
        label: column.label,
        sealed: row[column.column],
        aad: column.aad(row, ''),
        purpose: column.purpose,
      };
  }
  const subjects = await select<{ lookup_digest: Buffer; key_sealed: string }>(
    owner,
    `SELECT lookup_digest, key_sealed FROM platform.audit_subjects
      WHERE key_sealed IS NOT NULL AND period_key_id IS NULL LIMIT 1`,
  );
  for (const s of subjects) {
    yield {
      label: 'audit subject keys',
      sealed: s.key_sealed,
      aad: directAuditSubjectKeyAad(s.lookup_digest),
      purpose: null,
    };
  }
  const app = new Client({ connectionString: applicationDatabaseUrl(config) });
  app.on('error', () => undefined);
  await app.connect();
  try {
    for (const column of TENANT_SEALED_COLUMNS) {
      for (const schema of await tenantSchemasWith(app, column)) {
        const row = await sampleRow(app, column, schema);
        if (row)
          yield {
            label: column.label,
            sealed: row[column.column],
            aad: column.aad(row, schema),
            purpose: column.purpose,
          };
      }
    }
  } finally {
    await app.end().catch(() => undefined);
  }
}

/** The tenant schemas that have `column`'s table, in tenant order. */
export async function tenantSchemasWith(q: Queryable, column: SealedColumn): Promise<string[]> {
  const rows = await select<{ schema: string }>(
    q,
    `SELECT n.nspname AS schema FROM platform.tenants te JOIN pg_namespace n ON n.nspname = te.schema_name
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = $1 AND c.relkind = 'r'
      ORDER BY te.id`,
    [column.table],
  );
  return rows.map((r) => r.schema);
}

async function sampleRow(
  q: Queryable,
  column: SealedColumn,
  schema: string | null,
): Promise<Record<string, string> | null> {
  const [row] = await select<Record<string, string>>(
    q,
    `SELECT ${selectList(column)} FROM ${sealedTable(column, schema)} WHERE ${column.column} IS NOT NULL LIMIT 1`,
  );
  return row ?? null;
}

/** The table of `column`, in `schema` for a tenant table. */
export function sealedTable(column: SealedColumn, schema: string | null): string {
  return schema === null ? column.table : `${quoteIdent(schema)}.${column.table}`;
}

/** The row key, the columns of the binding and the sealed value, as text under their own names. */
export function selectList(column: SealedColumn): string {
  return [column.key.column, ...column.aadColumns, column.column].map((c) => `${c}::text AS ${c}`).join(', ');
}
