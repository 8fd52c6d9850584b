import { Client } from 'pg';
import type { AuditEntry } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { cliEnv, CliRun, runCliInProcess } from '../support/cli';
import { createTestDatabase } from '../support/database';

/**
 * The operator's audit commands of the `townhall` CLI (run in this process, `runCliInProcess`) on a
 * database of their own: a checkpoint on demand, finding and erasing a person, and the record of a migration run —
 * each recorded as done by the CLI.
 */
jest.setTimeout(180_000);

describe('townhall audit checkpoint / subjects (real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let env: NodeJS.ProcessEnv;
  let db: Client;

  const townhall = (...args: string[]): Promise<CliRun> => runCliInProcess(args, env);

  const json = <T>(run: CliRun): T => {
    if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
  };

  /** Every entry, sequenced or still pending, in order. */
  async function entries(): Promise<AuditEntry[]> {
    const { rows } = await db.query<{ entry: string }>(
      `SELECT entry FROM (SELECT entry, 0 AS part, seq AS n FROM platform.audit_entries
                         UNION ALL SELECT entry, 1, id FROM platform.audit_pending) log ORDER BY part, n`,
    );
    return rows.map((r) => JSON.parse(r.entry) as AuditEntry);
  }

  async function subjectRow(id: string): Promise<{ key_sealed: string | null; erased_at: Date | null }> {
    const { rows } = await db.query<{ key_sealed: string | null; erased_at: Date | null }>(
      `SELECT key_sealed, erased_at FROM platform.audit_subjects WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    env = cliEnv(config);
    // Something to record, and a person in it: a tenant's owner.
    json(
      await townhall(
        'tenants',
        'create',
        '--slug',
        'bmi',
        '--domain',
        'bmi.example',
        '--display-name',
        'Ministry',
        '--admin-email',
        'Press@BMI.example',
        '--json',
      ),
    );
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
  });

  it('sequences what a command recorded before the command ends: nothing waits for a worker', async () => {
    const { rows } = await db.query<{ pending: number; sequenced: number }>(
      `SELECT (SELECT count(*) FROM platform.audit_pending)::int AS pending,
              (SELECT count(*) FROM platform.audit_entries WHERE action = 'tenant.create')::int AS sequenced`,
    );
    expect(rows[0]).toEqual({ pending: 0, sequenced: 1 });
  });

  it('audit checkpoint signs the whole log now, its own entry included, and prints it', async () => {
    const checkpoint = json<{
      treeSize: number;
      rootHash: string;
      keyId: string;
      time: string;
      signature: string;
    }>(await townhall('audit', 'checkpoint', '--json'));
    const log = await entries();
    expect(checkpoint).toMatchObject({
      treeSize: log.length,
      keyId: expect.any(String),
      signature: expect.any(String),
    });
    expect(log.at(-1)).toMatchObject({
      action: 'audit.checkpoint',
      actor: { type: 'system', id: 'cli', onBehalfOf: expect.any(String) },
      target: { type: 'audit_log', id: 'platform' },
      outcome: 'success',
    });
    const { rows } = await db.query<{ root: string }>(
      `SELECT encode(root_hash, 'base64') AS root FROM platform.audit_checkpoints WHERE tree_size = $1`,
      [checkpoint.treeSize],
    );
    expect(rows.map((r) => r.root)).toContain(checkpoint.rootHash);

    const text = await townhall('audit', 'checkpoint');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/tree size\s.*\b\d+\b/);
    expect(text.stdout).toContain(checkpoint.keyId);
  });

  it('audit subjects find prints the subject id, records the lookup, and exits 1 for nobody', async () => {
    const found = json<{ subjectId: string }>(
      await townhall('audit', 'subjects', 'find', 'email:press@bmi.example', '--json'),
    );
    const create = (await entries()).find((e) => e.action === 'tenant.create')!;
    expect(create.details.subjects).toEqual([found.subjectId]);

    const plain = await townhall('audit', 'subjects', 'find', 'email:press@bmi.example');
    expect(plain.stdout.trim()).toBe(found.subjectId);

    const nobody = await townhall('audit', 'subjects', 'find', 'email:nobody@bmi.example');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/no subject/);

    const lookups = (await entries()).filter((e) => e.action === 'audit.subject.lookup');
    expect(lookups.map((e) => [e.target.id, e.details.found])).toEqual([
      [found.subjectId, true],
      [found.subjectId, true],
      ['unknown', false],
    ]);
    expect(JSON.stringify(lookups)).not.toContain('bmi.example');
  });

  it('audit subjects erase asks for confirmation, then destroys the subject’s key and records it', async () => {
    const { subjectId } = json<{ subjectId: string }>(
      await townhall('audit', 'subjects', 'find', 'email:press@bmi.example', '--json'),
    );

    const unconfirmed = await townhall('audit', 'subjects', 'erase', subjectId);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    expect(await subjectRow(subjectId)).toMatchObject({ key_sealed: expect.any(String), erased_at: null });

    const malformed = await townhall('audit', 'subjects', 'erase', '12; DROP TABLE x', '--yes');
    expect(malformed.code).toBe(2);

    const erased = json<{ periodKeyId: string; finalFrom: string }>(
      await townhall('audit', 'subjects', 'erase', subjectId, '--yes', '--json'),
    );
    expect(erased).toEqual({
      subjectId,
      erased: true,
      periodKeyId: expect.stringMatching(/^\d+$/),
      // The key lives until the rotation after this month; then the backup retention (30 days) runs.
      finalFrom: new Date(
        Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() + 1, 1) + 30 * 86_400_000,
      ).toISOString(),
    });
    expect(await subjectRow(subjectId)).toEqual({ key_sealed: null, erased_at: expect.any(Date) });
    expect((await entries()).at(-1)).toMatchObject({
      action: 'audit.subject.erase',
      actor: { type: 'system', id: 'cli' },
      target: { type: 'audit_subject', id: subjectId },
      outcome: 'success',
    });

    expect((await townhall('audit', 'subjects', 'find', 'email:press@bmi.example')).code).toBe(1);
    const again = await townhall('audit', 'subjects', 'erase', subjectId, '--yes');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not found/i);
  });

  it('audit period-keys rotate --new-period destroys the erased subject’s period key at once, and says when the erasure is final', async () => {
    const before = json<{ id: string; destroyedAt: string | null; erased: number }[]>(
      await townhall('audit', 'period-keys', 'list', '--json'),
    );
    const erasedUnder = before.find((k) => k.erased > 0)!;
    expect(erasedUnder.destroyedAt).toBeNull();
    const rotation = json<{ started: { id: string }; destroyed: { id: string }[]; rewrapped: number }>(
      await townhall('audit', 'period-keys', 'rotate', '--new-period', '--json'),
    );
    expect(rotation.destroyed.map((k) => k.id)).toEqual([erasedUnder.id]);
    expect(rotation.rewrapped).toBeGreaterThan(0);
    const after = json<{ id: string; destroyedAt: string | null; finalFrom: string }[]>(
      await townhall('audit', 'period-keys', 'list', '--json'),
    );
    const destroyed = after.find((k) => k.id === erasedUnder.id)!;
    expect(new Date(destroyed.finalFrom).getTime() - new Date(destroyed.destroyedAt!).getTime()).toBe(
      30 * 86_400_000,
    );
    const table = await townhall('audit', 'period-keys', 'list');
    expect(table.stdout).toContain(erasedUnder.id);
    expect(table.stdout).toContain('(expected)');
    const recorded = (await entries()).filter((e) => e.action.startsWith('audit.period_key.'));
    expect(recorded.slice(-2)).toEqual([
      expect.objectContaining({
        action: 'audit.period_key.create',
        actor: expect.objectContaining({ type: 'system', id: 'cli' }),
        target: { type: 'audit_period_key', id: rotation.started.id },
      }),
      expect.objectContaining({
        action: 'audit.period_key.destroy',
        actor: expect.objectContaining({ type: 'system', id: 'cli' }),
        target: { type: 'audit_period_key', id: erasedUnder.id },
      }),
    ]);
  });

  it('townhall migrate records its run: counts and failed tenants, as done by the CLI', async () => {
    // The one tenant is still provisioning (no worker runs here): the saga migrates it, not the run.
    const summary = json<{ total: number; latestVersion: number }>(await townhall('migrate', '--json'));
    expect((await entries()).at(-1)).toMatchObject({
      action: 'tenant.migrate_all',
      actor: { type: 'system', id: 'cli' },
      target: { type: 'platform', id: 'platform' },
      tenant: null,
      outcome: 'success',
      details: {
        latestVersion: summary.latestVersion,
        total: summary.total,
        migrated: 0,
        upToDate: 0,
        skipped: 0,
        failed: 0,
        failedTenantIds: [],
      },
    });
  });

  it('documents the commands with examples', async () => {
    for (const command of [
      ['checkpoint'],
      ['subjects'],
      ['subjects', 'find'],
      ['subjects', 'erase'],
      ['period-keys'],
      ['period-keys', 'list'],
      ['period-keys', 'rotate'],
    ]) {
      const help = await townhall('audit', ...command, '--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`$ townhall audit ${command.join(' ')}`);
    }
  });
});
