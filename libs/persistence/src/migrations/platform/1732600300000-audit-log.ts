import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULT_DATABASE_APP_ROLE } from '@townhall/core';
import { type ApplicationLogin, claimApplicationRole, type Queryable } from '../../application-role';

/**
 * The audit log's tables (docs/audit-format.md §12) and the database role the application works as.
 *
 * - `audit_pending`: entries committed by callers in their own transactions, not yet sequenced. Appending
 *   is one INSERT here, so appenders never wait for each other; the sequencer moves them on.
 * - `audit_entries`: the log. `seq` is gapless and equal to the Merkle leaf index; `entry` is the RFC 8785
 *   canonical JSON exactly as hashed into `leaf_hash`. `tenant_seq` counts each tenant's entries.
 * - `audit_nodes`: the hash of every complete perfect subtree above the leaves, so that proofs and
 *   prefixes are index lookups rather than scans.
 * - `audit_checkpoints`, `audit_signing_keys`, `audit_key_rotations`: signed tree heads, the Ed25519 keys
 *   that sign them (private keys sealed with the platform's SecretBox) and the records of key rotations.
 *
 * Entries, nodes, checkpoints and rotations are append-only twice over: a trigger refuses UPDATE, DELETE
 * and TRUNCATE whoever asks, and the application role may only read them. The owner (the login of
 * DATABASE_URL) writes them: the sequencer and key rotation run on a connection of its own.
 */
export class AuditLog1732600300000 implements MigrationInterface {
  name = 'AuditLog1732600300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform.audit_pending (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        entry text NOT NULL
      )`);
    await q.query(`
      CREATE TABLE platform.audit_entries (
        seq bigint PRIMARY KEY CHECK (seq >= 0),
        tenant_id text,
        tenant_seq bigint CHECK (tenant_seq >= 0),
        time timestamptz NOT NULL,
        action text NOT NULL,
        entry text NOT NULL,
        leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
        CHECK ((tenant_id IS NULL) = (tenant_seq IS NULL))
      )`);
    // A tenant's entries in order (tenant views, the sequencer's next tenant_seq); entries by action.
    await q.query(
      `CREATE UNIQUE INDEX audit_entries_tenant ON platform.audit_entries (tenant_id, tenant_seq)
        WHERE tenant_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX audit_entries_action ON platform.audit_entries (action, seq)`);
    await q.query(`
      CREATE TABLE platform.audit_nodes (
        level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
        index bigint NOT NULL CHECK (index >= 0),
        hash bytea NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (level, index)
      )`);
    await q.query(`
      CREATE TABLE platform.audit_signing_keys (
        key_id text PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
        public_key_pem text NOT NULL,
        private_key_sealed text NOT NULL,
        valid_from timestamptz NOT NULL,
        valid_to timestamptz CHECK (valid_to > valid_from),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One current key at a time, even if two processes generate the first one at once.
    await q.query(
      `CREATE UNIQUE INDEX audit_signing_keys_current ON platform.audit_signing_keys ((true))
        WHERE valid_to IS NULL`,
    );
    await q.query(`
      CREATE TABLE platform.audit_checkpoints (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        origin text NOT NULL,
        tree_size bigint NOT NULL CHECK (tree_size > 0),
        root_hash bytea NOT NULL CHECK (octet_length(root_hash) = 32),
        time timestamptz NOT NULL,
        key_id text NOT NULL REFERENCES platform.audit_signing_keys (key_id),
        signature bytea NOT NULL CHECK (octet_length(signature) = 64)
      )`);
    await q.query(`CREATE INDEX audit_checkpoints_size ON platform.audit_checkpoints (tree_size, id)`);
    await q.query(`
      CREATE TABLE platform.audit_key_rotations (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time timestamptz NOT NULL,
        previous_key_id text NOT NULL REFERENCES platform.audit_signing_keys (key_id),
        key_id text NOT NULL UNIQUE REFERENCES platform.audit_signing_keys (key_id),
        record text NOT NULL
      )`);

    await q.query(`
      CREATE FUNCTION platform.refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'platform.% is append-only: % refused', TG_TABLE_NAME, TG_OP
          USING ERRCODE = 'restrict_violation';
      END $$`);
    for (const table of APPEND_ONLY_TABLES) await makeAppendOnly(q, table);
    await q.query(`CREATE ${REFUSE_AUDIT_KEY_CHANGE}`);
    await q.query(`
      CREATE TRIGGER audit_signing_keys_retire_only BEFORE UPDATE OR DELETE ON platform.audit_signing_keys
        FOR EACH ROW EXECUTE FUNCTION platform.refuse_audit_key_change()`);
    await q.query(`
      CREATE TRIGGER audit_signing_keys_no_truncate BEFORE TRUNCATE ON platform.audit_signing_keys
        FOR EACH STATEMENT EXECUTE FUNCTION platform.refuse_audit_key_change()`);

    await ensureApplicationRoleOfSession(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE platform.audit_key_rotations, platform.audit_checkpoints, platform.audit_signing_keys,
                 platform.audit_nodes, platform.audit_entries, platform.audit_pending`);
    await q.query(`DROP FUNCTION platform.refuse_audit_change(), platform.refuse_audit_key_change()`);
  }
}

/**
 * A signing key is never deleted (old checkpoints name it) and changes once: when it is retired. (Its
 * definition as this migration makes it: migration 1732600800000 also allows re-sealing, and restores
 * this when undone.)
 */
export const REFUSE_AUDIT_KEY_CHANGE = `
      FUNCTION platform.refuse_audit_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' AND OLD.valid_to IS NULL AND NEW.valid_to IS NOT NULL
           AND (NEW.key_id, NEW.public_key_pem, NEW.private_key_sealed, NEW.valid_from, NEW.created_at)
               IS NOT DISTINCT FROM
               (OLD.key_id, OLD.public_key_pem, OLD.private_key_sealed, OLD.valid_from, OLD.created_at) THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'platform.audit_signing_keys: % refused (a key can only be retired, once)', TG_OP
          USING ERRCODE = 'restrict_violation';
      END $$`;

/** Has `platform.<table>` refuse UPDATE, DELETE and TRUNCATE to everyone (`refuse_audit_change`). */
export async function makeAppendOnly(q: Queryable, table: string): Promise<void> {
  await q.query(`
        CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON platform.${table}
          FOR EACH ROW EXECUTE FUNCTION platform.refuse_audit_change()`);
  await q.query(`
        CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON platform.${table}
          FOR EACH STATEMENT EXECUTE FUNCTION platform.refuse_audit_change()`);
}

/** Tables the trigger keeps append-only; the application role may only read them. */
const APPEND_ONLY_TABLES = ['audit_entries', 'audit_nodes', 'audit_checkpoints', 'audit_key_rotations'];

/**
 * The session setting through which the migration DataSource tells this migration which role the
 * application assumes (empty: none). A setting rather than a constructor argument because TypeORM
 * instantiates migrations itself.
 */
export const APP_ROLE_SETTING = 'townhall.app_role';

/** The setting that says whose login that role is (`ApplicationLogin`; unset: derived). */
export const APP_LOGIN_SETTING = 'townhall.app_login';

/**
 * Platform tables on which the application role gets less than SELECT, INSERT, UPDATE and DELETE. The
 * audit log's writer is the owner, so the application only appends pending entries (it never reads them
 * back) and reads the log and the public half of the signing keys.
 */
const RESTRICTED_TABLES: Record<string, string> = {
  ...Object.fromEntries(APPEND_ONLY_TABLES.map((t) => [t, 'SELECT'])),
  audit_pending: 'INSERT',
  audit_signing_keys: 'SELECT (key_id, public_key_pem, valid_from, valid_to, created_at)',
  // The migration history is the owner's.
  migrations: 'SELECT',
  // The sequencer's lock (migration 1732600500000): the application may not even lock it.
  audit_sequencer_lock: '',
  // Which secret key sealed the data (migration 1732600800000): the owner records it at start and on rotation.
  secret_key_check: 'SELECT',
  // Witnesses' cosignatures (migration 1732601700000): evidence the owner stores, as it writes the log.
  audit_cosignatures: 'SELECT',
  // Period keys (migration 1732601200000): the owner creates and destroys them.
  audit_period_keys: 'SELECT',
};

/** Tables whose identity sequences the application role has no use for (it sets no ids there). */
const OWNER_SEQUENCED_TABLES = ['audit_pending', 'audit_checkpoints', 'audit_key_rotations'];

/**
 * Sets the application role up as the migrating DataSource says (`townhall.app_role`, and whose login
 * it is in `townhall.app_login`): unset means the default role, empty means the role is off. For
 * migrations that add tables the role must not reach.
 */
export async function ensureApplicationRoleOfSession(q: Queryable): Promise<void> {
  const [{ role, login }] = (await q.query(
    `SELECT current_setting('${APP_ROLE_SETTING}', true) AS role,
            current_setting('${APP_LOGIN_SETTING}', true) AS login`,
  )) as { role: string | null; login: string | null }[];
  const appRole = role ?? DEFAULT_DATABASE_APP_ROLE;
  if (appRole !== '') await ensureApplicationRole(q, appRole, login === 'operator' ? 'operator' : 'derived');
}

/**
 * Grants the application role what the application needs and nothing more: data access to the
 * platform tables (less on the audit tables, see RESTRICTED_TABLES), sequences and functions, and
 * CREATE on the database, because provisioning creates tenant schemas (which the role then owns).
 * Default privileges extend the grants to what later migrations create. The role is never made a
 * member of the owner, so nothing it runs — `SET ROLE` included — reaches the owner's rights.
 * Idempotent; runs as the owner (the login of DATABASE_URL).
 *
 * First it claims the role (`claimApplicationRole`: creates and marks it when missing) and throws,
 * having changed nothing, when the role is not one Townhall may manage for this database.
 */
export async function ensureApplicationRole(
  q: Queryable,
  role: string,
  login: ApplicationLogin,
): Promise<void> {
  const [me] = (await q.query(`SELECT current_user AS name`)) as { name: string }[];
  if (me.name === role) {
    throw new Error(
      `the application role "${role}" must differ from the database owner that runs migrations ` +
        `(set TOWNHALL_DATABASE_APP_ROLE to another name, or to off)`,
    );
  }
  const refused = await claimApplicationRole(q, role, login);
  if (refused) throw new Error(refused);

  await q.query(`GRANT USAGE ON SCHEMA platform TO ${role}`);
  await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA platform TO ${role}`);
  const tables = (await q.query(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'platform' AND tablename = ANY($1)`,
    [Object.keys(RESTRICTED_TABLES)],
  )) as { tablename: string }[];
  for (const { tablename } of tables) {
    await q.query(`REVOKE ALL ON platform.${tablename} FROM ${role}`);
    const allowed = RESTRICTED_TABLES[tablename];
    if (allowed) await q.query(`GRANT ${allowed} ON platform.${tablename} TO ${role}`);
  }
  await q.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA platform TO ${role}`);
  const sequences = (await q.query(
    `SELECT pg_get_serial_sequence('platform.' || t, 'id') AS name FROM unnest($1::text[]) AS t
      WHERE to_regclass('platform.' || t) IS NOT NULL`,
    [OWNER_SEQUENCED_TABLES],
  )) as { name: string }[];
  for (const { name } of sequences) await q.query(`REVOKE ALL ON SEQUENCE ${name} FROM ${role}`);
  await q.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA platform TO ${role}`);
  await q.query(`
    DO $$ BEGIN
      EXECUTE format('GRANT CONNECT, TEMPORARY, CREATE ON DATABASE %I TO ${role}', current_database());
    END $$`);
  await q.query(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA platform GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`,
  );
  await q.query(
    `ALTER DEFAULT PRIVILEGES IN SCHEMA platform GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${role}`,
  );
  await q.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA platform GRANT EXECUTE ON FUNCTIONS TO ${role}`);
  // Tenant schemas made before the role existed: the application migrates them, so it must own them.
  await q.query(`
    DO $$ DECLARE s name; t name; BEGIN
      FOR s IN SELECT n.nspname FROM platform.tenants te JOIN pg_namespace n ON n.nspname = te.schema_name
                WHERE n.nspowner <> '${role}'::regrole LOOP
        ${joinRoleStatement(role)}
        EXECUTE format('ALTER SCHEMA %I OWNER TO ${role}', s);
        FOR t IN SELECT relname FROM pg_class
                  WHERE relnamespace = s::regnamespace AND relkind IN ('r', 'p', 'v', 'm', 'f') LOOP
          EXECUTE format('ALTER TABLE %I.%I OWNER TO ${role}', s, t);
        END LOOP;
      END LOOP;
    END $$`);
}

/**
 * Lets the owner act as the application role (`SET ROLE`) on what the role owns — tenant schemas — as
 * handing schemas over and re-sealing their secrets under a new platform key need. Makes the owner a
 * member (with SET from PostgreSQL 16 on, which ADMIN OPTION alone does not give) unless it is one or
 * a superuser; the owner joining the role gives the role nothing.
 */
export async function ensureOwnerMayActAs(q: Queryable, role: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`"${role}" is not a valid role name`);
  await q.query(`DO $$ BEGIN ${joinRoleStatement(role)} END $$`);
}

function joinRoleStatement(role: string): string {
  return `IF NOT pg_has_role(current_user, '${role}',
             CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END) THEN
          EXECUTE format('GRANT ${role} TO %I', current_user);
        END IF;`;
}

/**
 * Lets the application role log in, and nothing else: LOGIN without SUPERUSER, CREATEDB, CREATEROLE or
 * INHERIT, and — when given — `password`, sent as a SCRAM-SHA-256 verifier so that it appears in no
 * statement log. Alters the role only where it differs (ALTER ROLE of a superuser attribute needs a
 * superuser, even to keep it off). For the login Townhall derives, on a role it has claimed
 * (`claimApplicationRole`); an operator's own login (DATABASE_APP_URL) is left as the operator made it.
 */
export async function ensureApplicationLogin(
  q: Queryable,
  role: string,
  password: string | null,
): Promise<void> {
  const [r] = (await q.query(
    `SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolinherit FROM pg_roles WHERE rolname = $1`,
    [role],
  )) as Record<'rolcanlogin' | 'rolsuper' | 'rolcreatedb' | 'rolcreaterole' | 'rolinherit', boolean>[];
  if (!r) throw new Error(`the application role "${role}" does not exist`);
  const changes = [
    r.rolcanlogin ? '' : 'LOGIN',
    r.rolsuper ? 'NOSUPERUSER' : '',
    r.rolcreatedb ? 'NOCREATEDB' : '',
    r.rolcreaterole ? 'NOCREATEROLE' : '',
    r.rolinherit ? 'NOINHERIT' : '',
    password === null ? '' : `PASSWORD '${scramVerifier(password)}'`,
  ].filter(Boolean);
  if (changes.length) await q.query(`ALTER ROLE ${role} WITH ${changes.join(' ')}`);
}

/**
 * A SCRAM-SHA-256 password verifier as PostgreSQL stores it (RFC 5802, RFC 7677), for an ASCII
 * password (which SASLprep leaves as it is).
 */
function scramVerifier(password: string): string {
  const iterations = 4096;
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest('base64');
  const serverKey = hmac(salted, 'Server Key').toString('base64');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey}:${serverKey}`;
}
