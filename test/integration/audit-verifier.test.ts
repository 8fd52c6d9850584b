import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Compliance from '@townhall/compliance';

/**
 * The offline verifier as it ships: the BUILT library (dist), streaming a bundle from disk with its
 * worker threads, against the same bundle verified on one thread. The unit tamper suite runs from the
 * TypeScript sources, where worker threads cannot load; this test shows the threaded path reaches the
 * same verdicts, and that `runVerifyCommand` works on real files.
 */
const DIST = join(__dirname, '../../dist/libs/compliance/src/index.js');

interface WorkerPool {
  start(): void;
  ready(): boolean;
  tryDigest(bytes: Uint8Array): Promise<unknown> | null;
  close(): Promise<void>;
}

describe('offline audit verification from the built library (worker threads, real files)', () => {
  let lib: typeof Compliance;
  let dir: string;
  let bundlePath: string;
  let keysPath: string;
  let lines: string[];

  beforeAll(async () => {
    if (!existsSync(DIST))
      throw new Error(`${DIST} is missing: run \`npm run build\` first (npm test does).`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    lib = require(DIST) as typeof Compliance;
    dir = await mkdtemp(join(tmpdir(), 'townhall-audit-verifier-'));
    bundlePath = join(dir, 'bundle.ndjson');
    keysPath = join(dir, 'keys.json');
    // 30,000 entries (~13 MB): large enough for the verifier to start its workers.
    const bundle = await lib.writeBenchBundle(bundlePath, 30_000, 500);
    await writeFile(keysPath, JSON.stringify(bundle.keys));
    lines = (await readFile(bundlePath, 'utf8')).split('\n');
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function verifyBoth(path: string) {
    const keys = await readFile(keysPath, 'utf8');
    const threaded = await lib.verifyAuditBundle(createReadStream(path), keys, { workers: 2 });
    const single = await lib.verifyAuditBundle(createReadStream(path), keys, { workers: 0 });
    expect(threaded).toEqual(single);
    return threaded;
  }

  async function tampered(name: string, change: (lines: string[]) => void): Promise<string> {
    const copy = [...lines];
    change(copy);
    const path = join(dir, name);
    await writeFile(path, copy.join('\n'));
    return path;
  }

  const indexOfSeq = (all: string[], seq: number) =>
    all.findIndex((l) => l.includes(`"seq":${seq},`) && l.startsWith('{"type":"entry"'));

  it('has a worker thread digest a block exactly as the calling thread does', async () => {
    // The pool is internal to the library; the test reaches into the build to drive it directly.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DigestWorkerPool } = require(join(DIST, '../digest-worker-pool.js')) as {
      DigestWorkerPool: { create(size?: number): WorkerPool | null };
    };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { digestBlock } = require(join(DIST, '../audit-entry-digest.js')) as {
      digestBlock(parts: Uint8Array[]): unknown;
    };
    const pool = DigestWorkerPool.create(1);
    expect(pool).not.toBeNull();
    try {
      pool!.start();
      const deadline = Date.now() + 30_000;
      while (!pool!.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const block = Buffer.from(lines.slice(0, 2_000).join('\n') + '\n');
      const local = digestBlock([block]);
      const remote = await pool!.tryDigest(new Uint8Array(block));
      expect(remote).toEqual(local);
    } finally {
      await pool!.close();
    }
  }, 60_000);

  it('verifies a genuine bundle with worker threads exactly as on one thread', async () => {
    const result = await verifyBoth(bundlePath);
    expect(result).toMatchObject({ ok: true, summary: { entries: 30_000, checkpoints: 60 } });
  }, 120_000);

  it('names the same first failure on both paths', async () => {
    const altered = await tampered('altered.ndjson', (all) => {
      const at = indexOfSeq(all, 21_234);
      all[at] = all[at].replace('"outcome":"success"', '"outcome":"failure"');
    });
    expect(await verifyBoth(altered)).toMatchObject({ ok: false, reason: 'altered', seq: 21_234 });

    const deleted = await tampered('deleted.ndjson', (all) => all.splice(indexOfSeq(all, 25_000), 1));
    expect(await verifyBoth(deleted)).toMatchObject({ ok: false, reason: 'missing', seq: 25_000 });

    const swapped = await tampered('swapped.ndjson', (all) => {
      const a = indexOfSeq(all, 12_000);
      [all[a], all[a + 1]] = [all[a + 1], all[a]];
    });
    expect(await verifyBoth(swapped)).toMatchObject({ ok: false, reason: 'reordered', seq: 12_000 });

    const cut = await tampered('cut.ndjson', (all) => all.splice(indexOfSeq(all, 29_990)));
    expect(await verifyBoth(cut)).toMatchObject({ ok: false, reason: 'truncated', seq: 29_990 });
  }, 120_000);

  it('runs `audit verify` on real files: exit 0, 1 and 2', async () => {
    const io = () => {
      const out: string[] = [];
      const err: string[] = [];
      return {
        out,
        err,
        readFile: (path: string) => readFile(path, 'utf8'),
        openBundle: (path: string) => createReadStream(path),
        stdout: (line: string) => out.push(line),
        stderr: (line: string) => err.push(line),
      };
    };
    const ok = io();
    expect(await lib.runVerifyCommand([bundlePath, '--key', keysPath], ok)).toBe(0);
    expect(ok.out[0]).toMatch(
      /^OK bench\.townhall\.example\/audit: seq 0–29999, 30000 entries, 60 checkpoints verified/,
    );

    const broken = await tampered('broken.ndjson', (all) => all.splice(indexOfSeq(all, 7), 1));
    const bad = io();
    expect(await lib.runVerifyCommand([broken, '--key', keysPath], bad)).toBe(1);
    expect(bad.err[0]).toMatch(/^FAILED seq 7: missing/);

    const usage = io();
    expect(await lib.runVerifyCommand([join(dir, 'no-such-file.ndjson'), '--key', keysPath], usage)).toBe(2);
    expect(usage.err[0]).toMatch(/cannot read bundle/);
  }, 120_000);
});
