import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { canonicalJson, originHash, parseTreeSizeBody } from '@townhall/compliance';
import type { TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { cliEnv, CliRun, runCli, TOWNHALL_BIN } from '../support/cli';
import { createTestDatabase } from '../support/database';
import { ENTRY, freePort, processEnv, startProcess, type RunningProcess } from '../support/processes';
import { removeRedisKeys } from '../support/redis';
import { waitUntil } from '../support/wait';

/**
 * Witnesses against split views, as deployed: a control plane (with its workers) submits every new
 * checkpoint to a `townhall witness` process — another program, reached over HTTP on 127.0.0.1 — that
 * keeps its state in a directory and needs no database. The platform retries the witness while it is
 * down; exports carry the cosignatures; `audit verify --witness` refuses a bundle whose newest
 * checkpoint lacks them; the witness survives a restart with its state; and a second platform that
 * signs a different log under the same origin and key (a split view) gets no cosignature.
 */
jest.setTimeout(240_000);

const ORIGIN = 'witness-e2e.example/audit';
const WITNESS = 'witness.e2e.example/w1';
const OPERATOR_TOKEN = `witness-e2e-${randomBytes(12).toString('hex')}`;

describe('audit witnesses (control plane, townhall witness, audit verify; real processes)', () => {
  let dir: string;
  let a: { config: TownhallConfig; drop: () => Promise<void> };
  let b: { config: TownhallConfig; drop: () => Promise<void> } | undefined;
  let platformA: RunningProcess | undefined;
  let platformB: RunningProcess | undefined;
  let witness: RunningProcess | undefined;
  let witnessPort: number;
  let witnessKey: string;
  let logKeyFile: string;
  let keysFile: string;
  let regulatorToken: string;
  let dbA: Client;
  /** The sizes of the checkpoints signed along the way. */
  const sizes: Record<'cosigned' | 'whileDown', number> = { cosigned: 0, whileDown: 0 };

  const townhall = (config: TownhallConfig, ...args: string[]): Promise<CliRun> =>
    runCli(args, cliEnv(config));
  // What a regulator's machine has: no database, no Redis, no configuration.
  const offline = (...args: string[]): Promise<CliRun> => runCli(args, { PATH: process.env.PATH ?? '' });

  const platformEnv = (config: TownhallConfig): NodeJS.ProcessEnv =>
    processEnv(config, {
      PORT: '0',
      TOWNHALL_OPERATOR_TOKEN: OPERATOR_TOKEN,
      TOWNHALL_AUDIT_ORIGIN: ORIGIN,
      // Checkpoints only when the test asks for one: what is cosigned, and when, is then the test's to say.
      TOWNHALL_AUDIT_CHECKPOINT_SECONDS: '86400',
      TOWNHALL_AUDIT_WITNESSES: `${witnessKey} http://127.0.0.1:${witnessPort}`,
      TOWNHALL_AUDIT_WITNESS_RETRY_MS: '200',
      TOWNHALL_AUDIT_WITNESS_TIMEOUT_MS: '2000',
      TOWNHALL_RATE_LIMIT: '100000',
    });

  const startWitness = (): Promise<RunningProcess> =>
    startProcess(
      TOWNHALL_BIN,
      { PATH: process.env.PATH ?? '' },
      {
        args: [
          'witness',
          '--data-dir',
          join(dir, 'witness'),
          '--listen',
          `127.0.0.1:${witnessPort}`,
          '--log',
          logKeyFile,
        ],
      },
    );

  async function checkpointNow(platform: RunningProcess): Promise<number> {
    const res = await fetch(`${platform.url}/api/platform/v1/audit/checkpoints`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { treeSize: number }).treeSize;
  }

  async function latestNote(platform: RunningProcess): Promise<string> {
    const res = await fetch(`${platform.url}/api/platform/v1/audit/checkpoints/latest`);
    expect(res.status).toBe(200);
    return res.text();
  }

  async function exportBundle(
    platform: RunningProcess,
    token: string,
    to: number,
    file: string,
  ): Promise<string> {
    const res = await fetch(`${platform.url}/api/regulator/v1/audit/export?to=${to}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const path = join(dir, file);
    await writeFile(path, await res.text());
    return path;
  }

  async function witnessRow(
    db: Client,
  ): Promise<{ cosigned_size: string | null; failures: number; last_error: string | null }> {
    const { rows } = await db.query(
      `SELECT cosigned_size, failures, last_error FROM platform.audit_witnesses WHERE name = $1`,
      [WITNESS],
    );
    return rows[0] as { cosigned_size: string | null; failures: number; last_error: string | null };
  }

  async function regulator(config: TownhallConfig): Promise<string> {
    const run = await townhall(
      config,
      'regulators',
      'create',
      'Witness test',
      '--all',
      '--expires-at',
      new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
      '--json',
    );
    if (run.code !== 0) throw new Error(run.stderr);
    return (JSON.parse(run.stdout) as { token: string }).token;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'townhall-witness-e2e-'));
    a = await createTestDatabase({ TOWNHALL_AUDIT_ORIGIN: ORIGIN });
    await preparePlatform(a.config, { migrate: true });
    dbA = new Client({ connectionString: withDefaultUser(a.config.database.url) });
    await dbA.connect();
    // The witness makes its key first; the operator configures the platform with its verifier key.
    const printed = await offline(
      'witness',
      '--name',
      WITNESS,
      '--data-dir',
      join(dir, 'witness'),
      '--print-key',
    );
    expect(printed.code).toBe(0);
    witnessKey = printed.stdout.trim();
    witnessPort = await freePort();
    regulatorToken = await regulator(a.config);
    platformA = await startProcess(ENTRY.controlPlane, platformEnv(a.config));
  });

  afterAll(async () => {
    await Promise.all([platformA?.stop(), platformB?.stop(), witness?.stop()]);
    await dbA?.end();
    for (const db of [a, b]) {
      if (!db) continue;
      await removeRedisKeys(db.config);
      await db.drop();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * What the first test shows, done once for any test that needs a log its witness cosigned: a checkpoint
   * submitted while the witness is down (two failures recorded), the verifier keys written where the
   * witness and `audit verify` read them, then the witness started and the cosignature stored.
   */
  async function witnessTheLog() {
    const first = await checkpointNow(platformA!);
    // Nothing listens yet: the platform records the failures and tries again, later each time.
    const down = await waitUntil('two failed submissions are recorded', async () => {
      const row = await witnessRow(dbA);
      return row && row.failures >= 2 ? row : undefined;
    });
    // The regulator configures its witness with the log's verifier key, published by the platform.
    const keys = await fetch(`${platformA!.url}/api/platform/v1/audit/verifier-keys`);
    const keysType = keys.headers.get('content-type');
    const logKey = (await keys.text()).trim();
    logKeyFile = join(dir, 'log-keys.txt');
    await writeFile(logKeyFile, `${logKey}\n`);
    keysFile = join(dir, 'audit-keys.json');
    await writeFile(keysFile, await (await fetch(`${platformA!.url}/api/platform/v1/audit/keys`)).text());

    witness = await startWitness();
    const note = await waitUntil('the newest checkpoint carries the cosignature', async () => {
      const text = await latestNote(platformA!);
      return text.includes(`\n\u2014 ${WITNESS} `) ? text : undefined;
    });
    sizes.cosigned = first;
    return { first, down, keysType, logKey, note, witnessOutput: witness.stdout() };
  }
  let witnessed: ReturnType<typeof witnessTheLog> | undefined;
  const cosigned = () => (witnessed ??= witnessTheLog());

  it('keeps submitting to a witness that is down, and stores its cosignature once it is up', async () => {
    const { first, down, keysType, logKey, note, witnessOutput } = await cosigned();
    expect(down.last_error).toMatch(/could not be reached/);
    expect(keysType).toMatch(/^text\/plain/);
    expect(logKey).toMatch(new RegExp(`^${ORIGIN.replace(/[./]/g, '\\$&')}\\+[0-9a-f]{8}\\+A`));
    expect(witnessOutput).toContain(`verifier key: ${witnessKey}`);
    // A C2SP signed note: the checkpoint text, the log's signature, the witness's cosignature.
    expect(note).toMatch(
      new RegExp(
        `^${ORIGIN.replace(/[./]/g, '\\$&')}\\n${first}\\n[A-Za-z0-9+/]{43}=\\ntime \\S+\\n\\n\u2014 `,
      ),
    );
    expect(await witnessRow(dbA)).toMatchObject({
      cosigned_size: String(first),
      failures: 0,
      last_error: null,
    });
    // The witness publishes what it cosigned too: the same note, byte for byte.
    const monitored = await fetch(`${witness!.url}/${originHash(ORIGIN)}/checkpoint`);
    expect(await monitored.text()).toBe(note);

    // Every checkpoint stays published at its size; other sizes are 404, malformed ones 400.
    const bySize = await fetch(`${platformA!.url}/api/platform/v1/audit/checkpoints/${first}`);
    expect(await bySize.text()).toBe(note);
    expect((await fetch(`${platformA!.url}/api/platform/v1/audit/checkpoints/${first + 999}`)).status).toBe(
      404,
    );
    expect((await fetch(`${platformA!.url}/api/platform/v1/audit/checkpoints/01`)).status).toBe(400);
    const openApi = (await (await fetch(`${platformA!.url}/api/platform/docs/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const path of ['checkpoints/latest', 'checkpoints/{treeSize}', 'verifier-keys']) {
      expect(openApi.paths).toHaveProperty([`/api/platform/v1/audit/${path}`]);
    }
  });

  it('audit verify --witness accepts an export whose newest checkpoint the witness cosigned, and names a missing one', async () => {
    await cosigned();
    const bundle = await exportBundle(platformA!, regulatorToken, sizes.cosigned, 'cosigned.ndjson');
    const ok = await offline('audit', 'verify', bundle, '--key', keysFile, '--witness', witnessKey);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      new RegExp(`cosigned by 1 witness \\(1 required\\): ${WITNESS.replace(/[./]/g, '\\$&')} at `),
    );

    // A second witness that never cosigned: required, the bundle is refused, and it is named.
    const other = await offline(
      'witness',
      '--name',
      'witness.other.example/w2',
      '--data-dir',
      join(dir, 'other'),
      '--print-key',
    );
    const both = await offline(
      'audit',
      'verify',
      bundle,
      '--key',
      keysFile,
      '--witness',
      witnessKey,
      '--witness',
      other.stdout.trim(),
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(
      /unwitnessed: .*1 of the 2 witnesses required.*no cosignature of witness\.other\.example\/w2/,
    );
  });

  /** A checkpoint signed after the cosigned one while the witness is stopped, made once. */
  async function signWhileDown(): Promise<void> {
    await cosigned();
    await witness!.stop();
    sizes.whileDown = await checkpointNow(platformA!);
    await waitUntil(
      'the platform failed to reach the stopped witness',
      async () => (await witnessRow(dbA)).failures >= 1,
    );
  }
  let signedWhileDown: Promise<void> | undefined;

  it('refuses an export whose newest checkpoint was signed while the witness was down', async () => {
    await (signedWhileDown ??= signWhileDown());
    const bundle = await exportBundle(platformA!, regulatorToken, sizes.whileDown, 'uncosigned.ndjson');
    // The bundle itself is genuine …
    expect((await offline('audit', 'verify', bundle, '--key', keysFile)).code).toBe(0);
    // … but nobody witnessed its newest checkpoint.
    const refused = await offline('audit', 'verify', bundle, '--key', keysFile, '--witness', witnessKey);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^FAILED checkpoint ${sizes.whileDown}: unwitnessed: the newest checkpoint \\(tree size ${sizes.whileDown}\\) carries valid cosignatures of 0`,
      ),
    );
  });

  it('restarts the witness with its state, and a second view of the log (same origin and key) gets no cosignature', async () => {
    await cosigned();
    // The platform is stopped so that only the test talks to the witness now.
    await platformA!.stop();
    platformA = undefined;
    await witness?.stop();
    witness = await startWitness();
    const { rows: sizeRows } = await dbA.query(`SELECT count(*)::int AS n FROM platform.audit_entries`);
    const sizeA = (sizeRows[0] as { n: number }).n;
    const kept = await (await fetch(`${witness.url}/${originHash(ORIGIN)}/checkpoint`)).text();
    expect(kept.split('\n')[1]).toBe(String(sizes.cosigned));
    const fresh = await fetch(`${witness.url}/add-checkpoint`, { method: 'POST', body: `old 0\n\n${kept}` });
    expect(fresh.status).toBe(409);
    expect(fresh.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(parseTreeSizeBody(await fresh.text())).toBe(sizes.cosigned);

    // Platform B: another database whose log is signed with platform A's key under A's origin, with
    // other entries — the view a platform would show one regulator while showing another the real one.
    b = await createTestDatabase({
      TOWNHALL_AUDIT_ORIGIN: ORIGIN,
      TOWNHALL_SECRET_KEY: a.config.secretKey!.toString('base64'),
    });
    await preparePlatform(b.config, { migrate: true });
    const dbB = new Client({ connectionString: withDefaultUser(b.config.database.url) });
    await dbB.connect();
    try {
      const { rows: keys } = await dbA.query(
        `SELECT key_id, public_key_pem, private_key_sealed, valid_from FROM platform.audit_signing_keys`,
      );
      for (const k of keys as {
        key_id: string;
        public_key_pem: string;
        private_key_sealed: string;
        valid_from: Date;
      }[]) {
        await dbB.query(
          `INSERT INTO platform.audit_signing_keys (key_id, public_key_pem, private_key_sealed, valid_from) VALUES ($1, $2, $3, $4)`,
          [k.key_id, k.public_key_pem, k.private_key_sealed, k.valid_from],
        );
      }
      // A longer log than A's, so that B can only claim to extend what the witness saw.
      for (let i = 0; i < 3 * sizeA; i++) {
        await dbB.query(`INSERT INTO platform.audit_pending (entry) VALUES ($1)`, [
          canonicalJson({
            time: new Date().toISOString(),
            tenant: null,
            actor: { type: 'system', id: 'other-view' },
            action: 'tenant.update',
            target: { type: 'tenant', id: String(1000 + i) },
            outcome: 'success',
            requestId: randomUUID(),
            details: {},
          }),
        ]);
      }
      const tokenB = await regulator(b.config);
      platformB = await startProcess(ENTRY.controlPlane, platformEnv(b.config));
      const sizeB = await checkpointNow(platformB);
      expect(sizeB).toBeGreaterThan(sizeA);

      // The witness tells B its size (409), B proves from there, and the proof fails (422).
      const refusal = await waitUntil('platform B records the witness’s refusal', async () => {
        const row = await witnessRow(dbB);
        return row?.last_error?.includes('422') ? row : undefined;
      });
      expect(refusal.last_error).toMatch(
        new RegExp(
          `refused the consistency proof from tree size ${sizes.cosigned} to \\d+ \\(422\\).*split view`,
        ),
      );
      expect(refusal.cosigned_size).toBe(String(sizes.cosigned));
      const { rows: cosignaturesB } = await dbB.query(
        `SELECT count(*)::int AS n FROM platform.audit_cosignatures`,
      );
      expect(cosignaturesB[0]).toEqual({ n: 0 });
      expect(platformB.stderr() + platformB.stdout()).toMatch(/split view or rewritten history/);
      // The witness kept B's signed checkpoint as evidence, and A's state stands.
      expect(await readdir(join(dir, 'witness', 'refused', originHash(ORIGIN)))).not.toHaveLength(0);
      expect(
        (await (await fetch(`${witness.url}/${originHash(ORIGIN)}/checkpoint`)).text()).split('\n')[1],
      ).toBe(String(sizes.cosigned));

      // B's export verifies with the key alone (which is the problem), and is refused with the witness.
      const bundle = await exportBundle(platformB, tokenB, sizeB, 'other-view.ndjson');
      expect((await offline('audit', 'verify', bundle, '--key', keysFile)).code).toBe(0);
      const refused = await offline('audit', 'verify', bundle, '--key', keysFile, '--witness', witnessKey);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/unwitnessed/);
    } finally {
      await platformB?.stop();
      platformB = undefined;
      await dbB.end();
    }
  });

  it('brings the witness up to date when platform A comes back: the checkpoint signed while it was down is cosigned', async () => {
    await (signedWhileDown ??= signWhileDown());
    await platformA?.stop();
    await witness?.stop();
    witness = await startWitness();
    platformA = await startProcess(ENTRY.controlPlane, platformEnv(a.config));
    await waitUntil('the witness cosigned the checkpoint signed while it was down', async () => {
      const row = await witnessRow(dbA);
      return row.cosigned_size === String(sizes.whileDown) && row.failures === 0;
    });
    const bundle = await exportBundle(platformA, regulatorToken, sizes.whileDown, 'late.ndjson');
    const ok = await offline('audit', 'verify', bundle, '--key', keysFile, '--witness', witnessKey);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });
});
