import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { auditOriginProblem } from '@townhall/compliance';
import { checkRedis, redact, TownhallConfig } from '@townhall/core';
import {
  applicationDatabaseUrl,
  applicationLogin,
  applicationRoleProblem,
  claimApplicationRole,
  derivedApplicationPassword,
  ensureApplicationLogin,
  ensureApplicationRole,
  ensureDatabase,
  isLoginRefused,
  migrationDataSourceOptions,
  withDefaultUser,
} from '@townhall/persistence';
import { checkSecretKey } from './secret-key';

export interface PrepareOptions {
  /** Apply pending platform migrations (all-in-one, CLI `migrate`); production app processes may skip. */
  migrate: boolean;
  log?: (line: string) => void;
}

/**
 * Everything a process checks and prepares before Nest starts: Redis reachable and not evicting,
 * the database present, the application role Townhall's own for this database (or the operator's fit
 * login) before anything is changed, platform migrations applied and the application role granted and
 * able to log in (as the owner, the login of DATABASE_URL), the application's own login a role that is
 * not the owner, a member of it or a superuser, and the secret key and audit origin those the stored
 * data was made with. Throws with a message meant for a person.
 */
export async function preparePlatform(config: TownhallConfig, opts: PrepareOptions): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const redisProblems = await checkRedis(config.redis.url);
  if (redisProblems.length) throw new StartupError(redisProblems);
  const role = config.database.appRole;
  const owner = new URL(withDefaultUser(config.database.url)).username;
  if (role === owner) {
    throw new StartupError([
      `the application logs in as "${role}", the owner of the database (DATABASE_URL): it needs a role of its own`,
    ]);
  }
  await namingTheDatabase(config.database.url, () => ensureDatabase(config.database.url));
  if (opts.migrate) {
    const ds = new DataSource(migrationDataSourceOptions(config));
    await namingTheDatabase(config.database.url, () => ds.initialize());
    // Processes starting together take turns: the second finds nothing left to apply.
    const lock = ds.createQueryRunner();
    await lock.query(`SELECT pg_advisory_lock(hashtext('townhall.platform-migrations'))`);
    try {
      // Before anything changes: a role that is not Townhall's for this database is refused, not taken
      // over (its attributes stripped, the platform granted to it, the tenant schemas handed to it).
      const refused = role ? await claimApplicationRole(lock, role, applicationLogin(config)) : null;
      if (refused) throw new StartupError([refused]);
      const applied = await ds.runMigrations({ transaction: 'each' });
      if (applied.length)
        log(`Applied ${applied.length} platform migration(s): ${applied.map((m) => m.name).join(', ')}`);
      // The migration set the role up; this keeps an installation whose role was switched on or
      // renamed later, or whose owner password changed, in step.
      // One transaction: the role setup grants broadly and then narrows the audit tables, and no moment
      // of the broad grant may ever be visible to the application's login.
      if (role) {
        await lock.startTransaction();
        try {
          await ensureApplicationRole(lock, role, applicationLogin(config));
          if (!config.database.appUrl) {
            // The password only when the login needs it: setting it takes CREATEROLE at every start.
            const password = derivedApplicationPassword(config);
            const reset = password !== null && !(await canLogIn(applicationDatabaseUrl(config)));
            await ensureApplicationLogin(lock, role, reset ? password : null);
          }
          await lock.commitTransaction();
        } catch (err) {
          await lock.rollbackTransaction();
          throw err;
        }
      }
    } finally {
      await lock
        .query(`SELECT pg_advisory_unlock(hashtext('townhall.platform-migrations'))`)
        .catch(() => undefined);
      await lock.release();
      await ds.destroy();
    }
  }
  const roleProblem = await applicationRoleProblem(config);
  if (roleProblem) throw new StartupError([roleProblem]);
  const storedProblem = await storedStateProblem(config, log);
  if (storedProblem) throw new StartupError([storedProblem]);
}

/**
 * Settings the stored data depends on and that must not change under it: the secret key that sealed
 * the platform's secrets (see checkSecretKey), and the audit log's origin, which every checkpoint names.
 */
async function storedStateProblem(
  config: TownhallConfig,
  log: (line: string) => void,
): Promise<string | null> {
  const owner = new Client({ connectionString: withDefaultUser(config.database.url) });
  owner.on('error', () => undefined);
  await owner.connect();
  try {
    const keyProblem = await checkSecretKey(owner, config, log);
    if (keyProblem) return keyProblem;
    const { rows } = await owner.query<{ origin: string }>(
      `SELECT origin FROM platform.audit_checkpoints ORDER BY tree_size DESC, id DESC LIMIT 1`,
    );
    return auditOriginProblem(rows[0]?.origin ?? null, config.audit.origin);
  } finally {
    await owner.end().catch(() => undefined);
  }
}

/** Whether `url` logs in; false when PostgreSQL refuses the role or its password. */
async function canLogIn(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (err) {
    if (isLoginRefused(err)) return false;
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs `work`, turning a failure to reach or log in to the owner's database into a start-up problem
 * that names DATABASE_URL (without its password) and says what to check, instead of a bare driver
 * message such as "connect ECONNREFUSED".
 */
async function namingTheDatabase<T>(url: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const where = `PostgreSQL at ${redact(withDefaultUser(url))} (DATABASE_URL)`;
    const code = (err as { code?: unknown }).code;
    const message = (err as Error).message;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
      throw new StartupError([
        `${where} is not reachable (${message}): start PostgreSQL or correct DATABASE_URL`,
      ]);
    }
    if (isLoginRefused(err)) {
      throw new StartupError([
        `${where} refused the login (${message}): correct the user or password in DATABASE_URL`,
      ]);
    }
    if (code === '3D000' || code === '42501') {
      throw new StartupError([
        `${where}: ${message}. Create the database, or give DATABASE_URL a user that may create it`,
      ]);
    }
    throw err;
  }
}

export class StartupError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'StartupError';
  }
}
