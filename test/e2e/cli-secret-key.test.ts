import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AuditStore, AuditSubjectStore, type AuditEntry } from '@townhall/compliance';
import { decodeSecretKey, secretKeyId, TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { ActorKeyPool } from '@townhall/provisioning';
import {
  cliEnv,
  cliFinished,
  CliRun,
  requireBuiltCli,
  ROOT,
  runCli,
  runCliInProcess,
  TOWNHALL_BIN,
} from '../support/cli';
import { createTestDatabase } from '../support/database';
import { openEverything, opensEverything } from '../support/sealed';
import { provisionActiveTenant, startProvisioningContext } from '../support/tenants';

jest.setTimeout(300_000);

/** Audit subjects beyond the tenants' owners: a rotation must leave them as they are, all still found. */
const EXTRA_SUBJECTS = 1200;

/**
 * `townhall secret-key` as an operator runs it, on a platform with something of every sealed kind:
 * tenants with actor keys, pre-generated keys, an audit signing key and many audit subjects. A start
 * with another key is refused; a rotation re-seals everything in one transaction, and a crash at any
 * point leaves exactly one of the two keys working.
 */
describe('townhall secret-key (built, real PostgreSQL)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let db: Client;
  let dir: string;
  /** The key the platform runs with now. */
  let key: Buffer;
  /** The subject of the first tenant's owner, found before any rotation. */
  let ownerSubject: string;
  let before: Awaited<ReturnType<typeof openEverything>>;

  const env = (k: Buffer, extra: Record<string, string> = {}) =>
    cliEnv(config, { TOWNHALL_SECRET_KEY: k.toString('base64'), ...extra });
  /** A command in this process; crashes and standard input need the built CLI as a process (`runCli`). */
  const townhall = (k: Buffer, ...args: string[]): Promise<CliRun> => runCliInProcess(args, env(k));

  /** What the audit log says of key rotations: outcome, target, and the previous key or the error. */
  const rotations = async (): Promise<unknown[][]> =>
    (await entries())
      .filter((e) => e.action === 'secret_key.rotate')
      .map((e) => [e.outcome, e.target.id, e.details.previousKeyId ?? e.details.error]);

  async function keyFile(k: Buffer): Promise<string> {
    const file = join(dir, `${secretKeyId(k)}.key`);
    await writeFile(file, `${k.toString('base64')}\n`, { mode: 0o600 });
    return file;
  }

  async function storedKeyId(): Promise<string> {
    const { rows } = await db.query<{ key_id: string }>(`SELECT key_id FROM platform.secret_key_check`);
    return rows[0].key_id;
  }

  async function entries(): Promise<AuditEntry[]> {
    const { rows } = await db.query<{ entry: string }>(
      `SELECT entry FROM (SELECT entry, 0 AS part, seq AS n FROM platform.audit_entries
                         UNION ALL SELECT entry, 1, id FROM platform.audit_pending) log ORDER BY part, n`,
    );
    return rows.map((r) => JSON.parse(r.entry) as AuditEntry);
  }

  /** `key` opens the platform and everything in it; `other` neither, and a start with it is refused. */
  async function expectOnlyKey(k: Buffer, other: Buffer): Promise<void> {
    const { signingKeys, keyPool, tenantActorKeys, subjects } = before;
    expect(await openEverything(db, k)).toMatchObject({ signingKeys, keyPool, tenantActorKeys, subjects });
    expect(await opensEverything(db, other)).toBe(false);
    expect(await storedKeyId()).toBe(secretKeyId(k));
    // What every process and command does first (the CLI's own refusal is tested above).
    await preparePlatform({ ...config, secretKey: k }, { migrate: true });
    await expect(preparePlatform({ ...config, secretKey: other }, { migrate: true })).rejects.toMatchObject({
      problems: [expect.stringContaining('is not the key this platform')],
    });
  }

  beforeAll(async () => {
    requireBuiltCli();
    ({ config, drop } = await createTestDatabase());
    key = config.secretKey!;
    dir = await mkdtemp(join(tmpdir(), 'townhall-secret-key-'));
    const platform = await startProvisioningContext(config);
    try {
      for (const slug of ['agency-1', 'agency-2']) await provisionActiveTenant(platform, slug);
      await platform.app.get(ActorKeyPool).refill(2);
      const subjects = platform.app.get(AuditSubjectStore);
      await platform.ds.transaction(async (m) => {
        for (let i = 0; i < EXTRA_SUBJECTS; i++)
          await subjects.subjectFor(m, `email:person-${i}@agency.example`);
      });
      await platform.app.get(AuditStore).checkpointNow();
    } finally {
      await platform.app.close();
    }
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
    const found = await townhall(key, 'audit', 'subjects', 'find', 'email:press@agency-1.example');
    expect(found.code).toBe(0);
    ownerSubject = found.stdout.trim();
    before = await openEverything(db, key);
    expect(before).toMatchObject({ signingKeys: 1, keyPool: 2, tenantActorKeys: 2 });
    expect(before.subjects).toBeGreaterThan(EXTRA_SUBJECTS);
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('explains itself: --help of the group and of rotate, and generate prints a new key', async () => {
    const group = await townhall(key, 'secret-key', '--help');
    expect(group.code).toBe(0);
    expect(group.stdout).toMatch(/rotate[\s\S]*generate/);
    const rotate = await townhall(key, 'secret-key', 'rotate', '--help');
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toMatch(/--new-key-file <file>/);
    expect(rotate.stdout).toMatch(/every other Townhall\s+process stopped/);
    expect(rotate.stdout).toContain('never');
    const generated = await townhall(key, 'secret-key', 'generate');
    expect(generated.code).toBe(0);
    const fresh = decodeSecretKey(generated.stdout);
    expect(fresh).not.toBeNull();
    expect(generated.stderr.trim()).toBe(`key id ${secretKeyId(fresh!)}`);
  });

  it('refuses a start with another key on every start path, in one line that says what to do', async () => {
    const other = randomBytes(32);
    const cli = await townhall(other, 'tenants', 'list');
    expect(cli.code).toBe(1);
    expect(cli.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^error: cannot start: TOWNHALL_SECRET_KEY \(key id [0-9a-f]{16}\) is not the key this platform's data is sealed with \(key id [0-9a-f]{16}, in use since .+\): start with the key this platform was set up with; to change keys, use `townhall secret-key rotate`/,
      ),
    ]);
    const server = spawnSync(process.execPath, [join(ROOT, 'dist/apps/townhall/src/main.js')], {
      env: { ...env(other), PORT: '0', TOWNHALL_DEMO: 'false', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(server.status).toBe(1);
    expect(server.stderr.trim().split('\n')).toEqual([
      '[townhall] cannot start:',
      expect.stringMatching(
        /^ {2}- TOWNHALL_SECRET_KEY \(key id [0-9a-f]{16}\) is not the key this platform's data/,
      ),
    ]);
    expect(await storedKeyId()).toBe(secretKeyId(key));
  });

  it('refuses a new key that is not one, or is the key in use, and changes nothing', async () => {
    const bad = join(dir, 'bad.key');
    await writeFile(bad, 'not a key\n');
    for (const file of [bad, join(dir, 'missing.key')]) {
      const run = await townhall(key, 'secret-key', 'rotate', '--new-key-file', file);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /^error: (the new key must be 32 bytes in base64|cannot read the new key from)/,
      );
    }
    const recorded = (await rotations()).length;
    const same = await townhall(key, 'secret-key', 'rotate', '--new-key-file', await keyFile(key));
    expect(same.code).toBe(1);
    expect(same.stderr).toContain('The new key is the key in use');
    // The refusal is recorded; the unreadable keys above never reached the use case.
    expect((await rotations()).slice(recorded)).toEqual([
      ['failure', secretKeyId(key), 'secret_key_unchanged'],
    ]);
    const keyOnCommandLine = await townhall(key, 'secret-key', 'rotate', randomBytes(32).toString('base64'));
    expect(keyOnCommandLine.code).toBe(2);
    await expectOnlyKey(key, randomBytes(32));
  });

  // Every point before the commit: after the platform's own secrets, after the tenant schemas', and
  // after the new check value is written.
  it.each(['platform_secrets', 'tenant_secrets', 'check_value'])(
    'a crash at %s leaves the old key working and the new one refused',
    async (point) => {
      const next = randomBytes(32);
      const run = await runCli(
        ['secret-key', 'rotate', '--new-key-file', await keyFile(next)],
        env(key, { TOWNHALL_FAULT_CRASH_IN_KEY_ROTATION: point }),
      );
      expect(run.signal).toBe('SIGKILL');
      await expectOnlyKey(key, next);
    },
  );

  it('a crash right after the commit leaves the new key working and the old one refused', async () => {
    const next = randomBytes(32);
    const recorded = (await rotations()).length;
    const run = await runCli(
      ['secret-key', 'rotate', '--new-key-file', await keyFile(next)],
      env(key, { TOWNHALL_FAULT_CRASH_IN_KEY_ROTATION: 'committed' }),
    );
    expect(run.signal).toBe('SIGKILL');
    await expectOnlyKey(next, key);
    // Recorded in the transaction that committed it, so the crash after the commit does not lose it.
    expect((await rotations()).slice(recorded)).toEqual([['success', secretKeyId(next), secretKeyId(key)]]);
    key = next;
  });

  it('rotates with the new key from standard input: everything opens with it, earlier people are still found and erased', async () => {
    const previous = key;
    const next = randomBytes(32);
    const subjectRows = async () =>
      (await db.query(`SELECT id, lookup_digest, key_sealed FROM platform.audit_subjects ORDER BY id`)).rows;
    const subjectsBefore = await subjectRows();
    const recorded = (await rotations()).length;
    const child = spawn(
      process.execPath,
      [TOWNHALL_BIN, 'secret-key', 'rotate', '--new-key-file', '-', '--json'],
      { cwd: ROOT, env: env(previous), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child.stdin.end(`${next.toString('base64')}\n`);
    const run = await cliFinished(child);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      previousKeyId: secretKeyId(previous),
      keyId: secretKeyId(next),
      resealed: [
        { label: 'audit signing keys', count: before.signingKeys },
        { label: 'pre-generated actor keys', count: before.keyPool },
        { label: 'audit period keys', count: before.periodKeys },
        { label: 'tenant actor keys', count: before.tenantActorKeys },
      ],
    });
    const progress = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('re-sealing tenant actor keys (tenant schemas): '));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatch(/^re-sealing tenant actor keys \(tenant schemas\): (\d+)\/\1$/);
    // Subjects are wrapped under the period keys, not under the secret key: nothing of theirs changed.
    expect(await subjectRows()).toEqual(subjectsBefore);

    await expectOnlyKey(next, previous);
    key = next;

    // The same person is found under the same subject, erasable; signing works with the re-sealed key.
    const found = await townhall(key, 'audit', 'subjects', 'find', 'email:press@agency-1.example');
    expect(found.stdout.trim()).toBe(ownerSubject);
    expect((await townhall(key, 'audit', 'checkpoint')).code).toBe(0);
    expect((await townhall(key, 'audit', 'subjects', 'erase', ownerSubject, '--yes')).code).toBe(0);
    expect((await townhall(key, 'audit', 'subjects', 'find', 'email:press@agency-1.example')).code).toBe(1);

    expect((await rotations()).slice(recorded)).toEqual([
      ['success', secretKeyId(next), secretKeyId(previous)],
    ]);
    const rotation = (await entries()).filter((e) => e.action === 'secret_key.rotate').at(-1)!;
    expect(rotation.actor).toMatchObject({
      type: 'system',
      id: 'cli',
      onBehalfOf: expect.any(String),
    });
  });
});
