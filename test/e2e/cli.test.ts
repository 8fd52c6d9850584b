import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { hashBearerToken } from '@townhall/auth';
import { TownhallConfig } from '@townhall/core';
import { LATEST_TENANT_VERSION, withDefaultUser } from '@townhall/persistence';
import {
  cliEnv,
  cliFinished,
  type CliRun as Run,
  requireBuiltCli,
  ROOT,
  runCliInProcess,
  startCli,
} from '../support/cli';
import { createTestDatabase } from '../support/database';
import { freePort } from '../support/processes';
import { processAlive, waitFor } from '../support/wait';
import { Provisioner } from './instance-support';

/**
 * The `townhall` command line against a database of its own and the machine's Redis. Commands run in
 * this process (`runCliInProcess`: the command tree, use cases, output and exit status of the built
 * CLI); what only a process shows — the built entry point's exit statuses, the worker's signals, the
 * embedded PostgreSQL's start and stop — runs the built CLI (bin/townhall.js → dist) as a real process.
 * `npm test` builds first; for a local run, `npm run build`.
 */
const DIST_LIBS = join(ROOT, 'dist', 'libs');

// Spawned commands are fresh Node processes loading Nest, TypeORM and Bull: seconds each on a busy machine.
jest.setTimeout(180_000);

describe('townhall CLI (built, real PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  let db: Client;
  let worker: ChildProcess | undefined;
  let provisioner: Provisioner | undefined;

  /** A real process of the built CLI. */
  const start = (args: string[], extraEnv: Record<string, string> = {}): ChildProcess =>
    startCli(args, { ...env, ...extraEnv });

  const spawned = (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    cliFinished(start(args, extraEnv));

  /** The same command, run in this process. */
  const townhall = (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    runCliInProcess(args, { ...env, ...extraEnv });

  const json = <T>(run: Run): T => {
    if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
  };

  const tenantCount = async (): Promise<number> =>
    (await db.query(`SELECT count(*)::int AS n FROM platform.tenants`)).rows[0].n;

  beforeAll(async () => {
    requireBuiltCli();
    // An empty database, not a copy of the migrated template: the CLI migrates it, as on a first start.
    ({ config, drop } = await createTestDatabase({}, { from: 'empty' }));
    env = cliEnv(config, { TOWNHALL_PUBLIC_SCHEME: 'http' });
    delete env.TOWNHALL_FAULT_CRASH_AFTER_STEP;
    // The first command prepares the database (platform migrations), as on a fresh installation.
    const first = await townhall(['tenants', 'list', '--json']);
    expect(json(first)).toEqual({ tenants: [], nextCursor: null });
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = cliFinished(worker).catch(() => undefined);
      worker.kill('SIGKILL');
      await exited;
    }
    await provisioner?.close();
    await db?.end();
    await drop?.();
  });

  it('runs as a process: the built entry point prints help with exit 0 and a usage error with exit 2', async () => {
    const help = await spawned(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Examples:');
    const unknown = await spawned(['tenantz']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'tenantz'[\s\S]*Did you mean tenants\?/);
  });

  it('--help lists the commands with examples; unknown commands and bad options are usage errors (exit 2)', async () => {
    const help = await townhall(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['operators', 'tenants', 'migrate', 'worker'])
      expect(help.stdout).toContain(command);
    expect(help.stdout).toContain('Examples:');

    const sub = await townhall(['tenants', 'create', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/--slug <slug>[\s\S]*--admin-email <email>[\s\S]*--wait[\s\S]*Examples:/);

    const unknown = await townhall(['tenantz']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'tenantz'[\s\S]*Did you mean tenants\?/);

    const unknownSub = await townhall(['tenants', 'destroy', 'x']);
    expect(unknownSub.code).toBe(2);
    expect(unknownSub.stderr).toContain("unknown command 'tenants destroy'");

    const badOption = await townhall(['tenants', 'list', '--limit', 'many']);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toContain("option '--limit <n>' argument 'many' is invalid");
  });

  it('reports configuration problems one per line and exits 2', async () => {
    const run = await townhall(['tenants', 'list'], {
      TOWNHALL_SECRET_KEY: 'too-short',
      DATABASE_URL: 'mysql://db/x',
    });
    expect(run.code).toBe(2);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^error: configuration: DATABASE_URL must use postgres/),
        expect.stringMatching(/^error: configuration: TOWNHALL_SECRET_KEY must be 32 bytes/),
      ]),
    );
  });

  it('operators create prints the token once and stores only its hash', async () => {
    const run = await townhall(['operators', 'create', 'ci']);
    expect(run.code).toBe(0);
    const token = /thop_[A-Za-z0-9_-]{43}/.exec(run.stdout)?.[0];
    expect(token).toBeDefined();
    expect(run.stderr).toContain('shown only once');

    const { rows } = await db.query(`SELECT * FROM platform.operators WHERE name = 'ci'`);
    expect(rows).toHaveLength(1);
    expect(Buffer.compare(rows[0].token_hash, hashBearerToken(token!))).toBe(0);
    expect(JSON.stringify(rows[0])).not.toContain(token!);
    expect(rows[0].token_hash.toString('utf8')).not.toContain(token!.slice(5));

    const again = await townhall(['operators', 'create', 'ci', '--json']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toMatch(/^error: Operator already exists: /);
    expect(again.stdout).toBe('');
  });

  it('operators list shows hints, never tokens, and operators revoke stops a token at once', async () => {
    const created = json<{ token: string }>(await townhall(['operators', 'create', 'leaver', '--json']));
    const listed = json<{ name: string; tokenHint: string; revokedAt: string | null }[]>(
      await townhall(['operators', 'list', '--json']),
    );
    const leaver = listed.find((o) => o.name === 'leaver')!;
    expect(leaver).toMatchObject({ tokenHint: `…${created.token.slice(-4)}`, revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(created.token);

    const revoked = await townhall(['operators', 'revoke', 'leaver', '--json']);
    expect(revoked.code).toBe(0);
    expect(json<{ revokedAt: string }>(revoked).revokedAt).toEqual(expect.any(String));
    const { rows } = await db.query(`SELECT revoked_at FROM platform.operators WHERE name = 'leaver'`);
    expect(rows[0].revoked_at).not.toBeNull();

    const unknown = await townhall(['operators', 'revoke', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No operator named "nobody"/);
  });

  it('tenants create --json, then list and show it by slug and domain', async () => {
    const created = json<{ id: string; slug: string; status: string; primaryDomain: string }>(
      await townhall([
        'tenants',
        'create',
        '--slug',
        'bmi',
        '--domain',
        'Social.BMI.Example.',
        '--display-name',
        'Federal Ministry',
        '--admin-email',
        'press@bmi.example',
        '--json',
      ]),
    );
    expect(created).toMatchObject({
      slug: 'bmi',
      status: 'provisioning',
      primaryDomain: 'social.bmi.example',
    });

    const listed = json<{ tenants: { id: string; slug: string }[] }>(
      await townhall(['tenants', 'list', '--json']),
    );
    expect(listed.tenants.map((t) => [t.id, t.slug])).toEqual([[created.id, 'bmi']]);

    const bySlug = json<{ id: string; adminEmail: string }>(
      await townhall(['tenants', 'show', 'bmi', '--json']),
    );
    expect(bySlug).toMatchObject({ id: created.id, adminEmail: 'press@bmi.example' });
    const byDomain = await townhall(['tenants', 'show', 'SOCIAL.bmi.example']);
    expect(byDomain.code).toBe(0);
    expect(byDomain.stdout).toContain(created.id);

    const missing = await townhall(['tenants', 'show', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(
      'error: Tenant not found: No tenant has the id, slug or domain "nobody".',
    );
  });

  it('a bad slug exits 1 with a clear message, no stack trace, and writes nothing', async () => {
    const before = await tenantCount();
    const run = await townhall([
      'tenants',
      'create',
      '--slug',
      'Not A Slug!',
      '--domain',
      'x.example',
      '--display-name',
      'X',
      '--admin-email',
      'a@x.example',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('error: Invalid request: slug must match [a-z0-9-]{3,40}');
    expect(run.stdout).toBe('');
    expect(await tenantCount()).toBe(before);

    const first = await townhall([
      'tenants',
      'create',
      '--slug',
      'taken',
      '--domain',
      'social.taken.example',
      '--display-name',
      'Taken',
      '--admin-email',
      'a@taken.example',
    ]);
    expect(first.code).toBe(0);
    const withFirst = await tenantCount();
    const taken = await townhall([
      'tenants',
      'create',
      '--slug',
      'taken',
      '--domain',
      'other.example',
      '--display-name',
      'X',
      '--admin-email',
      'a@x.example',
    ]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('error: Slug already in use: The slug "taken" is already in use.');
    expect(taken.stderr).not.toMatch(/\n\s+at /);
    expect(await tenantCount()).toBe(withFirst);
  });

  it('migrate --json migrates what is behind, reports a busy schema with exit 1, and finishes on the next run', async () => {
    // Two tenants from "before" the tenant migrations: active, with an empty schema at version 0.
    const legacy = (
      await db.query(
        `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, activated_at)
         SELECT id, 'legacy-' || i, 'Legacy ' || i, 'a@legacy.example', 'active', 'default', 'tenant_' || id, now()
           FROM (SELECT platform.next_id() AS id, i FROM generate_series(1, 2) i) s
         RETURNING id::text AS id, schema_name AS schema`,
      )
    ).rows as { id: string; schema: string }[];
    // Tenant schemas belong to the application's role, which migrates them.
    const appRole = config.database.appRole!;
    for (const t of legacy) await db.query(`CREATE SCHEMA ${t.schema} AUTHORIZATION ${appRole}`);
    const [free, busy] = legacy;
    // Another session holds the busy schema's version table for the whole run.
    await db.query(
      `CREATE TABLE ${busy.schema}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
       ALTER TABLE ${busy.schema}.schema_migrations OWNER TO ${appRole}`,
    );
    const holder = new Client({ connectionString: withDefaultUser(config.database.url) });
    await holder.connect();
    let first: Run;
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${busy.schema}.schema_migrations IN ACCESS EXCLUSIVE MODE`);
      first = await townhall(['migrate', '--json', '--lock-timeout-ms', '200', '--concurrency', '2']);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect(first.code).toBe(1);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ total: 2, migrated: 1, upToDate: 0 });
    expect(summary.failed).toEqual([
      {
        tenantId: busy.id,
        slug: 'legacy-2',
        schema: busy.schema,
        reason: expect.stringMatching(/^lock timeout: schema busy/),
      },
    ]);
    expect(first.stderr).toMatch(
      new RegExp(`\\[\\d/2\\] ${free.schema} \\(legacy-1\\) migrated 0 -> ${LATEST_TENANT_VERSION}`),
    );
    expect(first.stderr).toContain('error: 1 tenant schema(s) could not be migrated');
    const versions = await db.query(
      `SELECT schema_name, migration_version FROM platform.tenants WHERE id = ANY($1) ORDER BY id`,
      [legacy.map((t) => t.id)],
    );
    expect(versions.rows.map((r) => r.migration_version)).toEqual([LATEST_TENANT_VERSION, 0]);

    const second = await townhall(['migrate', '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ total: 2, migrated: 1, upToDate: 1, failed: [] });

    // Each schema that changed is recorded with its migration: once each, the busy one only when it moved.
    const recorded = await db.query(
      `SELECT entry::jsonb AS entry FROM (SELECT entry FROM platform.audit_pending
                                          UNION ALL SELECT entry FROM platform.audit_entries) e
        WHERE entry::jsonb ->> 'action' = 'tenant.migrate' ORDER BY entry::jsonb ->> 'time'`,
    );
    expect(recorded.rows.map((r: { entry: { tenant: string; details: unknown } }) => r.entry)).toEqual([
      expect.objectContaining({
        tenant: free.id,
        details: expect.objectContaining({ from: 0, to: LATEST_TENANT_VERSION }),
      }),
      expect.objectContaining({
        tenant: busy.id,
        details: expect.objectContaining({ from: 0, to: LATEST_TENANT_VERSION }),
      }),
    ]);
  });

  it('worker provisions tenants created with `tenants create` (also with --wait), and exits 0 on SIGTERM', async () => {
    const { id } = json<{ id: string; status: string }>(
      await townhall([
        'tenants',
        'create',
        '--slug',
        'queued',
        '--domain',
        'social.queued.example',
        '--display-name',
        'Queued',
        '--admin-email',
        'web@queued.example',
        '--json',
      ]),
    );
    worker = start(['worker']);
    const done = cliFinished(worker, 60_000);
    const status = async (): Promise<string> =>
      (await db.query(`SELECT status FROM platform.tenants WHERE id = $1`, [id])).rows[0].status as string;
    await waitFor(async () => (await status()) !== 'provisioning', {
      timeoutMs: 40_000,
      what: 'provisioning',
    });
    expect(await status()).toBe('active');

    // With a worker running, `tenants create --wait` reports each step and returns once the tenant is active.
    const waited = await townhall([
      'tenants',
      'create',
      '--slug',
      'city-x',
      '--domain',
      'social.city-x.example',
      '--display-name',
      'City X',
      '--admin-email',
      'web@city-x.example',
      '--wait',
      '--json',
    ]);
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({
      slug: 'city-x',
      status: 'active',
      provisioningStep: 'active',
    });
    expect(waited.stderr).toMatch(/\[1\/5\] city-x: schema done[\s\S]*\[5\/5\] city-x: active done/);

    worker.kill('SIGTERM');
    const run = await done;
    expect(run).toMatchObject({ code: 0, signal: null });
    expect(run.stderr).toContain('worker ready');
    expect(run.stderr).toContain('worker stopped');

    const shown = json<{ status: string; provisioningStep: string; migrationVersion: number }>(
      await townhall(['tenants', 'show', id, '--json']),
    );
    expect(shown).toMatchObject({
      status: 'active',
      provisioningStep: 'active',
      migrationVersion: LATEST_TENANT_VERSION,
    });
  });

  it('suspends and resumes a tenant, and refuses a transition its state does not allow', async () => {
    provisioner ??= await Provisioner.start(config);
    await provisioner.activate({
      slug: 'pausable',
      domain: 'social.pausable.example',
      displayName: 'Pausable',
      adminEmail: 'press@pausable.example',
    });
    const suspended = await townhall([
      'tenants',
      'suspend',
      'pausable',
      '--reason',
      'audit in progress',
      '--json',
    ]);
    expect(json(suspended)).toMatchObject({ status: 'suspended', suspensionReason: 'audit in progress' });

    const retry = await townhall(['tenants', 'retry', 'pausable']);
    expect(retry.code).toBe(1);
    expect(retry.stderr.trim()).toBe(
      'error: Not possible in the tenant’s current state: The tenant is suspended; this needs it to be failed.',
    );

    const resumed = await townhall(['tenants', 'resume', 'social.pausable.example']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^Tenant pausable \(\d+\) is active again\.\n$/);
  });

  it('audit rotate-key makes a new signing key current and records that it did', async () => {
    const current = async () =>
      (await db.query(`SELECT key_id FROM platform.audit_signing_keys WHERE valid_to IS NULL`)).rows.map(
        (r: { key_id: string }) => r.key_id,
      );
    const before = await current();
    const { key, rotation } = json<{
      key: { keyId: string; validFrom: string };
      rotation: { previousKeyId: string; time: string } | null;
    }>(await townhall(['audit', 'rotate-key', '--json']));
    expect(await current()).toEqual([key.keyId]);
    expect(rotation?.previousKeyId ?? null).toBe(before[0] ?? null);
    const { rows } = await db.query(
      `SELECT entry FROM platform.audit_pending UNION ALL SELECT entry FROM platform.audit_entries`,
    );
    const recorded = rows.map((r: { entry: string }) => JSON.parse(r.entry) as { action: string });
    expect(recorded.filter((e) => e.action === 'audit.key.rotate')).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ type: 'system', id: 'cli' }),
        target: { type: 'audit_signing_key', id: key.keyId },
        outcome: 'success',
      }),
    ]);

    const again = await townhall(['audit', 'rotate-key']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`previous key id\\s*│\\s*${key.keyId}`));
  });
  describe('without DATABASE_URL and with no PostgreSQL at the default address', () => {
    let dataDir: string;
    let port: number;
    let embeddedEnv: Record<string, string>;

    const postmasterPid = (): string => join(dataDir, 'postgres', 'postmaster.pid');

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'townhall-cli-embedded-'));
      // As root, the embedded server runs as the system user "postgres", which must reach its directory.
      await chmod(dataDir, 0o755);
      port = await freePort();
      const nowhere = `postgres://127.0.0.1:${await freePort()}/townhall`;
      // The machine's PostgreSQL answers at the real default address; these processes get a default
      // where nothing listens, and a free port for the embedded server instead of 5433.
      const preload = join(dataDir, 'defaults.js');
      await writeFile(
        preload,
        `require(${JSON.stringify(join(DIST_LIBS, 'core', 'src', 'config.js'))}).DEFAULT_DATABASE_URL = ${JSON.stringify(nowhere)};\n` +
          `require(${JSON.stringify(join(DIST_LIBS, 'platform', 'src', 'embedded-postgres.js'))}).DEFAULT_EMBEDDED_POSTGRES_PORT = ${port};\n`,
      );
      embeddedEnv = { DATABASE_URL: '', TOWNHALL_DATA_DIR: dataDir, NODE_OPTIONS: `--require ${preload}` };
    });

    afterAll(async () => {
      // Only if a command died without stopping the server it started.
      if (existsSync(postmasterPid())) {
        const pid = Number(readFileSync(postmasterPid(), 'utf8').split('\n')[0]);
        if (pid > 0) {
          process.kill(pid, 'SIGINT');
          await waitFor(() => !processAlive(pid), {
            timeoutMs: 20_000,
            what: 'the embedded PostgreSQL to stop',
          });
        }
      }
      await rm(dataDir, { recursive: true, force: true });
    }, 30_000);

    it('--help still touches no database', async () => {
      const help = await spawned(['tenants', 'list', '--help'], embeddedEnv);
      expect(help.code).toBe(0);
      expect(help.stderr).toBe('');
      expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
    });

    it('runs on the embedded PostgreSQL under TOWNHALL_DATA_DIR, as npm start does, and stops it when done', async () => {
      const first = await spawned(['tenants', 'list', '--json'], embeddedEnv);
      expect(json(first)).toEqual({ tenants: [], nextCursor: null });
      expect(first.stderr).toContain(`using an embedded PostgreSQL on 127.0.0.1:${port}`);
      expect(first.stderr).toContain(join(dataDir, 'postgres'));
      expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
      // Stopped with the command: a running server would have kept the process alive.
      expect(existsSync(postmasterPid())).toBe(false);

      // The second command starts the same cluster again and finds what the first one wrote.
      const created = json<{ slug: string; status: string }>(
        await spawned(
          [
            'tenants',
            'create',
            '--slug',
            'embedded',
            '--domain',
            'social.embedded.example',
            '--display-name',
            'Embedded',
            '--admin-email',
            'a@embedded.example',
            '--json',
          ],
          embeddedEnv,
        ),
      );
      expect(created).toMatchObject({ slug: 'embedded', status: 'provisioning' });
      const listed = json<{ tenants: { slug: string }[] }>(
        await spawned(['tenants', 'list', '--json'], embeddedEnv),
      );
      expect(listed.tenants.map((t) => t.slug)).toEqual(['embedded']);
      expect(existsSync(postmasterPid())).toBe(false);
    });

    it('keeps a failing command’s exit status, which the embedded server’s exit hook would turn into 0', async () => {
      const missing = await spawned(['tenants', 'show', 'nobody'], embeddedEnv);
      expect(missing.stderr).toContain('using an embedded PostgreSQL');
      expect(missing.code).toBe(1);
      expect(missing.stderr.trim().split('\n').pop()).toBe(
        'error: Tenant not found: No tenant has the id, slug or domain "nobody".',
      );
      expect(existsSync(postmasterPid())).toBe(false);
    });
  });
});
