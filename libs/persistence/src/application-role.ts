import { sqlState } from './sql-state';

/**
 * Which roles Townhall may manage as the application role, and whether a login is fit to be it.
 *
 * Townhall manages the application role it derives from DATABASE_URL: it strips the role's dangerous
 * attributes, sets its password, grants it the platform and hands it every tenant schema. Roles belong
 * to the whole cluster, so a name could designate a role someone else made, or the role of another
 * Townhall database on the same cluster; managing it would take it over. So Townhall marks the roles it
 * creates — a comment on the role naming the database it serves — and claims, before any change, only
 * a role that carries this database's mark, that it is creating now, or that an earlier version made
 * here (recognised by what that version left behind, then marked). A login the operator gives
 * (DATABASE_APP_URL) is the operator's: never altered or marked, but refused before any grant when it
 * is not fit to be the application's.
 */

/** A TypeORM QueryRunner or EntityManager: `query` resolves to the rows. */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** Whose login the application role is: derived from DATABASE_URL by Townhall, or the operator's own. */
export type ApplicationLogin = 'derived' | 'operator';

/**
 * The mark, a comment on the role: a role serves one database (a role shared by two databases would let
 * each application reach the other's data). Bound to the database's name, not its oid, so that a dump
 * and restore under the same name keeps it (pg_dumpall carries role comments), while a copy under
 * another name (CREATE DATABASE … TEMPLATE) gets a role of its own.
 */
const MARK_PREFIX = 'townhall application role of database ';
const MARK_SQL = `'${MARK_PREFIX}' || quote_ident(current_database())`;

/**
 * The audit tables no row of which the application may change or remove, pending entries included.
 */
const APPEND_ONLY_AUDIT_TABLES = [
  'audit_pending',
  'audit_entries',
  'audit_nodes',
  'audit_checkpoints',
  'audit_key_rotations',
  'audit_signing_keys',
  'audit_cosignatures',
];

/**
 * What makes a login unfit to be the application's, for the role `r`: $1 the owner, $2 the audit tables.
 * Works for any role, as the role itself (the start-up check) or as the owner (before any grant).
 */
const LOGIN_FACTS = `
  r.rolname AS user, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
  pg_has_role(r.oid, $1::name, 'MEMBER')
    OR pg_has_role(r.oid, (SELECT nspowner FROM pg_namespace WHERE nspname = 'platform'), 'MEMBER')
    AS owns,
  -- What the role may do to the log, however it got the right (e.g. pg_write_all_data).
  (SELECT string_agg(c.relname, ', ' ORDER BY c.relname)
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'platform' AND c.relname = ANY($2::text[])
      AND has_table_privilege(r.oid, c.oid, 'UPDATE, DELETE, TRUNCATE'))
    AS writes`;

interface LoginFacts {
  user: string;
  superuser: boolean;
  createrole: boolean;
  owns: boolean;
  writes: string | null;
}

/** The facts of the session's own login (`session_user`), for the start-up check. */
export async function sessionLoginFacts(
  client: { query(sql: string, parameters: unknown[]): Promise<{ rows: unknown[] }> },
  owner: string,
): Promise<LoginFacts> {
  const { rows } = await client.query(
    `SELECT ${LOGIN_FACTS} FROM pg_roles r WHERE r.rolname = session_user`,
    [owner, APPEND_ONLY_AUDIT_TABLES],
  );
  return rows[0] as LoginFacts;
}

/** Why a login with these facts may not be the application's, or null. One line, for a person. */
export function loginProblem(me: LoginFacts, owner: string): string | null {
  if (me.superuser) return `the application logs in as "${me.user}", a superuser: it needs a role of its own`;
  if (me.owns) {
    return `the application logs in as "${me.user}", which is or is a member of the owner "${owner}": it needs a role of its own`;
  }
  if (me.createrole) {
    return `the application logs in as "${me.user}", which may create roles (and so grant itself the owner's): remove CREATEROLE`;
  }
  if (me.writes) {
    return `the application logs in as "${me.user}", which may change or delete audit rows (${me.writes}): revoke that (e.g. pg_write_all_data)`;
  }
  return null;
}

interface RoleFacts extends LoginFacts {
  /** The role's comment, the mark when Townhall made it. */
  mark: string | null;
  /** This database's mark. */
  ours: string;
  /** What an earlier version left on the role it created for this database: see `claimApplicationRole`. */
  earlier: boolean;
  /** The session's user: the owner, who runs the claim. */
  owner: string;
}

async function roleFacts(q: Queryable, role: string): Promise<RoleFacts | undefined> {
  const [{ owner }] = (await q.query(`SELECT current_user AS owner`)) as { owner: string }[];
  const [facts] = (await q.query(
    `SELECT ${LOGIN_FACTS}, $1::name AS owner,
            shobj_description(r.oid, 'pg_authid') AS mark, ${MARK_SQL} AS ours,
            r.rolcanlogin AND NOT (r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolinherit
                                   OR r.rolreplication OR r.rolbypassrls)
              AND NOT EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid)
              AND EXISTS (SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a
                           WHERE n.nspname = 'platform' AND a.grantee = r.oid AND a.privilege_type = 'USAGE')
              AS earlier
       FROM pg_roles r WHERE r.rolname = $3`,
    [owner, APPEND_ONLY_AUDIT_TABLES, role],
  )) as RoleFacts[];
  return facts;
}

/**
 * Makes sure `role` is one Townhall may manage as this database's application role, before anything
 * changes it; returns why not (one line, for a person), or null. Runs as the owner.
 *
 * - A missing role is created (`LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT`) and marked in
 *   one statement.
 * - A role marked for another database is refused, whoever's login it is.
 * - The operator's login (DATABASE_APP_URL) is refused if it is unfit (`loginProblem`), else accepted as
 *   it is: Townhall grants it what the application needs, and never alters or marks it.
 * - A role marked for this database is Townhall's.
 * - An unmarked role is one an earlier version created here only if it looks exactly as that version
 *   left it: a login with none of SUPERUSER, CREATEDB, CREATEROLE, INHERIT, REPLICATION, BYPASSRLS,
 *   member of no role, and granted USAGE on this database's platform schema by name — which only
 *   Townhall's migrations do. It is marked, and Townhall's from then on. Anything else is refused.
 *
 * Two databases that share an unmarked role from an earlier version (which their documentation warned
 * against) could both adopt it if they started at the very same moment: an advisory lock serialises
 * starts of one database only.
 */
export async function claimApplicationRole(
  q: Queryable,
  role: string,
  login: ApplicationLogin,
): Promise<string | null> {
  // The name goes into statements as it is (CREATE ROLE takes no parameters).
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`"${role}" is not a valid role name`);
  let facts = await roleFacts(q, role);
  if (!facts) {
    // Only a missing role is created, so the operator's own role needs no CREATEROLE. Another database
    // may create the same role at the same moment: then it is that database's, and refused below.
    await q.query(`
      DO $$ BEGIN
        CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
        EXECUTE format('COMMENT ON ROLE ${role} IS %L', ${MARK_SQL});
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    facts = await roleFacts(q, role);
    if (!facts) throw new Error(`the application role "${role}" was dropped while it was being created`);
  }
  if (facts.mark !== facts.ours && facts.mark?.startsWith(MARK_PREFIX)) {
    return (
      `the application role "${role}" is Townhall's role for the database ${facts.mark.slice(MARK_PREFIX.length)}: ` +
      `give this database a role of its own (TOWNHALL_DATABASE_APP_ROLE)`
    );
  }
  if (login === 'operator') return loginProblem(facts, facts.owner);
  if (facts.mark === facts.ours) return null;
  if (facts.mark !== null || !facts.earlier) {
    return (
      `the application role "${role}" already exists and Townhall did not create it for this database: ` +
      `choose another TOWNHALL_DATABASE_APP_ROLE, drop the role, or give its login in DATABASE_APP_URL`
    );
  }
  try {
    await q.query(`DO $$ BEGIN EXECUTE format('COMMENT ON ROLE ${role} IS %L', ${MARK_SQL}); END $$`);
  } catch (err) {
    if (sqlState(err) !== '42501') throw err;
    return (
      `the application role "${role}" was made by an earlier Townhall and the owner may not mark it as Townhall's ` +
      `(that takes CREATEROLE, from PostgreSQL 16 ADMIN OPTION on the role): as a superuser, run ` +
      `COMMENT ON ROLE ${role} IS '${facts.ours.replace(/'/g, "''")}'`
    );
  }
  return null;
}
