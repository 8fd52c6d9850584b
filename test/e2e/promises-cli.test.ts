import { Client } from 'pg';
import { TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { cliEnv, cliFinished, type CliRun, requireBuiltCli, runCliInProcess, startCli } from '../support/cli';
import { createTestDatabase } from '../support/database';
import { waitFor } from '../support/wait';

/**
 * docs/operations.md, "The `townhall` CLI": `tenants list [--status S] [--limit N]` lists newest first,
 * and `worker` runs until SIGTERM or SIGINT. Listing runs in this process (`runCliInProcess`), the worker
 * as a real process of the built CLI; tenants are put in place with SQL, as the API would leave them.
 */
jest.setTimeout(120_000);

describe('townhall CLI promises (built, real PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  let db: Client;

  const townhall = (args: string[]): Promise<CliRun> => runCliInProcess(args, env);

  /** A tenant row in `status`, without a schema (listing needs none); ids grow with each call. */
  async function insertTenant(slug: string, status: string): Promise<string> {
    const { rows } = await db.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
       SELECT id, $1, $1, 'owner@' || $1 || '.example', $2, 'default', 'tenant_' || id
         FROM (SELECT platform.next_id() AS id) s
       RETURNING id::text AS id`,
      [slug, status],
    );
    await db.query(
      `INSERT INTO platform.tenant_domains (domain, tenant_id, is_primary) VALUES ($1, $2, true)`,
      [`social.${slug}.example`, rows[0].id],
    );
    return rows[0].id as string;
  }

  beforeAll(async () => {
    requireBuiltCli();
    ({ config, drop } = await createTestDatabase());
    env = cliEnv(config);
    await preparePlatform(config, { migrate: true });
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
  });

  describe('tenants list', () => {
    let ids: Record<string, string>;

    beforeAll(async () => {
      ids = {};
      for (const [slug, status] of [
        ['oldest', 'active'],
        ['paused', 'suspended'],
        ['broken', 'failed'],
        ['newest', 'active'],
      ])
        ids[slug] = await insertTenant(slug, status);
    });

    const listed = (run: CliRun): { slugs: string[]; nextCursor: string | null } => {
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      const page = JSON.parse(run.stdout) as { tenants: { slug: string }[]; nextCursor: string | null };
      return { slugs: page.tenants.map((t) => t.slug), nextCursor: page.nextCursor };
    };

    it('lists newest first, only the tenants in the state --status names', async () => {
      expect(listed(await townhall(['tenants', 'list', '--status', 'active', '--json'])).slugs).toEqual([
        'newest',
        'oldest',
      ]);
      const table = await townhall(['tenants', 'list', '--status', 'failed']);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain('broken');
      expect(table.stdout).not.toMatch(/newest|oldest|paused/);
    });

    it('stops after --limit tenants and says how to go on', async () => {
      const first = listed(
        await townhall(['tenants', 'list', '--status', 'active', '--limit', '1', '--json']),
      );
      expect(first).toEqual({ slugs: ['newest'], nextCursor: ids.newest });
      const rest = listed(
        await townhall([
          'tenants',
          'list',
          '--status',
          'active',
          '--limit',
          '1',
          '--cursor',
          ids.newest,
          '--json',
        ]),
      );
      expect(rest).toEqual({ slugs: ['oldest'], nextCursor: null });
      const table = await townhall(['tenants', 'list', '--limit', '2']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/newest[\s\S]*broken/);
      expect(table.stdout).not.toMatch(/paused|oldest/);
      expect(table.stderr.trim()).toBe(`more: townhall tenants list --cursor ${ids.broken}`);
    });

    it('refuses a state that does not exist as a usage error', async () => {
      const status = await townhall(['tenants', 'list', '--status', 'Active']);
      expect(status.code).toBe(2);
      expect(status.stderr).toContain("argument 'Active' is invalid");
      expect(status.stdout).toBe('');
    });
  });

  describe('worker', () => {
    it('stops on SIGINT: finishes what it holds and exits 0', async () => {
      const worker = startCli(['worker'], env);
      const done = cliFinished(worker, 60_000);
      let stderr = '';
      worker.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitFor(
        () => {
          if (worker.exitCode !== null) throw new Error(`the worker exited: ${stderr}`);
          return stderr.includes('worker ready');
        },
        { timeoutMs: 45_000, what: 'the worker to start' },
      );
      worker.kill('SIGINT');
      const run = await done;
      expect(run).toMatchObject({ code: 0, signal: null });
      expect(run.stderr).toContain('worker stopping (SIGINT)');
      expect(run.stderr).toContain('worker stopped');
    });
  });
});
