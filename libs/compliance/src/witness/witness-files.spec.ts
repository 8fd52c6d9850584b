import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCosignerKey } from './cosignature';
import { originHash, WitnessFiles, type WitnessedCheckpoint } from './witness-files';

describe('the witness’s files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'townhall-witness-files-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const state = (treeSize: number): WitnessedCheckpoint => ({
    origin: 'townhall.test/audit',
    treeSize,
    rootHash: Buffer.alloc(32, treeSize).toString('base64'),
    note: `townhall.test/audit\n${treeSize}\n…\n`,
    cosignedAt: '2025-04-01T00:00:00.000Z',
  });

  it('creates its key once, under its name, and keeps both across restarts', async () => {
    const first = await WitnessFiles.open(dir);
    const identity = await first.identity('witness.test/w1');
    expect(parseCosignerKey(identity.vkey).name).toBe('witness.test/w1');
    // Read without the lock, while the witness holds the directory (`--print-key` while it serves).
    expect((await WitnessFiles.readIdentity(dir, null))?.vkey).toBe(identity.vkey);
    await first.write(state(10));
    await first.close();

    const again = await WitnessFiles.open(dir);
    expect((await again.identity(null)).vkey).toBe(identity.vkey);
    expect(await again.read('townhall.test/audit')).toEqual(state(10));
    await expect(again.identity('witness.test/w2')).rejects.toThrow(/cannot become witness\.test\/w2/);
    await again.close();
    // The private key is readable by its owner only.
    expect((await readFile(join(dir, 'witness.key'), 'utf8')).startsWith('-----BEGIN PRIVATE KEY-----')).toBe(
      true,
    );
  });

  it('replaces the state whole, leaving no temporary file behind', async () => {
    const files = await WitnessFiles.open(dir);
    await files.write(state(10));
    await files.write(state(20));
    expect(await files.read('townhall.test/audit')).toEqual(state(20));
    expect(await readdir(join(dir, 'logs'))).toEqual([`${originHash('townhall.test/audit')}.json`]);
    await files.close();
  });

  it('refuses a directory another running witness holds, and takes over a stale lock', async () => {
    const files = await WitnessFiles.open(dir);
    await expect(WitnessFiles.open(dir)).rejects.toThrow(/another witness \(process \d+\) is using/);
    await files.close();
    // A lock left by a process that no longer exists.
    await writeFile(join(dir, 'witness.lock'), '999999999\n');
    const next = await WitnessFiles.open(dir);
    await next.close();
  });

  it('stops on a damaged state rather than forgetting the log (which would allow a rollback)', async () => {
    const files = await WitnessFiles.open(dir);
    await writeFile(join(dir, 'logs', `${originHash('townhall.test/audit')}.json`), '{"origin":"other"}');
    await expect(files.read('townhall.test/audit')).rejects.toThrow(
      /is not the state of townhall\.test\/audit/,
    );
    await writeFile(join(dir, 'logs', `${originHash('townhall.test/audit')}.json`), '{"trunc');
    await expect(files.read('townhall.test/audit')).rejects.toThrow();
    await files.close();
  });

  it('keeps refused requests as evidence, in a folder per log', async () => {
    const files = await WitnessFiles.open(dir);
    await files.keepRefused('townhall.test/audit', 'old 10\n\nbody', 'inconsistent');
    const [name] = await readdir(join(dir, 'refused', originHash('townhall.test/audit')));
    expect(await readFile(join(dir, 'refused', originHash('townhall.test/audit'), name), 'utf8')).toBe(
      '# inconsistent\nold 10\n\nbody',
    );
    await files.close();
  });
});
