import { spawnSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchBundle } from '@townhall/compliance';

const CLI = join(__dirname, '../../bin/townhall.js');

/** A regulator's view: `townhall audit verify` with only a downloaded bundle and a key file, no platform. */
describe('townhall audit verify', () => {
  let dir: string;
  let bundlePath: string;
  let keysPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'townhall-cli-audit-'));
    bundlePath = join(dir, 'export.ndjson');
    keysPath = join(dir, 'keys.json');
    // Over 1 MB, so that worker threads start when asked for.
    const bundle = await writeBenchBundle(bundlePath, 5_000, 250);
    await writeFile(keysPath, JSON.stringify(bundle.keys));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // No DATABASE_URL, no Redis: verification must not need the platform at all.
  const townhall = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('accepts a genuine export with a one-line summary', () => {
    const run = townhall('audit', 'verify', bundlePath, '--key', keysPath);
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('rejects an altered export, naming the entry, with exit 1', async () => {
    const lines = (await readFile(bundlePath, 'utf8')).split('\n');
    const i = lines.findIndex((l) => l.includes('"seq":1234,'));
    expect(i).toBeGreaterThan(0);
    lines[i] = lines[i]
      .replace('"outcome":"success"', '"outcome":"denied"')
      .replace('"outcome":"denied"', '"outcome":"failure"');
    const altered = join(dir, 'altered.ndjson');
    await writeFile(altered, lines.join('\n'));
    const run = townhall('audit', 'verify', altered, '--key', keysPath);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/1234/);
    expect(run.stderr).toMatch(/altered/);
  });

  it('quotes what a forged bundle holds without letting it steer the terminal', async () => {
    const forged = join(dir, 'forged.ndjson');
    const [header] = (await readFile(bundlePath, 'utf8')).split('\n');
    await writeFile(
      forged,
      `${header}\n${JSON.stringify({ type: '\u001b]0;pwned\u0007\u001b[2J\u202e' })}\n`,
    );
    const run = townhall('audit', 'verify', forged, '--key', keysPath);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('\\u{1B}]0;pwned\\u{7}\\u{1B}[2J\\u{202E}');
    expect(run.stderr).not.toMatch(/[\u0007\u001b\u202e]/); // eslint-disable-line no-control-regex
  });

  it('takes --threads (0: everything on one thread) and refuses a bad count as a usage error', () => {
    for (const threads of ['0', '2']) {
      const run = townhall('audit', 'verify', bundlePath, '--key', keysPath, '--threads', threads);
      expect([run.status, run.stderr]).toEqual([0, '']);
      expect(run.stdout).toMatch(/^OK .*5000 entries/);
    }
    const bad = townhall('audit', 'verify', bundlePath, '--key', keysPath, '--threads', 'many');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--threads needs a whole number/);
  });

  it('loads none of the platform: no package from node_modules, whatever the thread count', () => {
    for (const threads of ['0', '1']) {
      // The command as bin/townhall.js runs it, reporting at exit what it loaded and the threads it ran.
      const probe = `
        const threads = require('node:worker_threads');
        let workers = 0;
        const Original = threads.Worker;
        threads.Worker = class extends Original { constructor(...args) { super(...args); workers++; } };
        process.on('exit', () => {
          const packages = Object.keys(require.cache).filter((path) => path.includes('node_modules'));
          process.stderr.write(JSON.stringify({ packages, workers }));
        });
        require(${JSON.stringify(CLI)});`;
      const run = spawnSync(
        process.execPath,
        ['-e', probe, CLI, 'audit', 'verify', bundlePath, '--key', keysPath, '--threads', threads],
        { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 },
      );
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stderr)).toEqual({ packages: [], workers: threads === '0' ? 0 : 1 });
    }
  });

  it('exits 2, not 1, when it cannot write its verdict; 0 when the reader stops early', async () => {
    const full = await open('/dev/full', 'w');
    try {
      const run = spawnSync(process.execPath, [CLI, 'audit', 'verify', bundlePath, '--key', keysPath], {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', full.fd, 'pipe'],
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/cannot write the result/);
    } finally {
      await full.close();
    }
    const piped = spawnSync(
      'bash',
      [
        '--norc',
        '--noprofile',
        '-c',
        `set -o pipefail; "${process.execPath}" "${CLI}" audit verify "${bundlePath}" --key "${keysPath}" | head -c 0`,
      ],
      { env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(piped.status).toBe(0);
    expect(piped.stderr).not.toMatch(/townhall|Error/);
  });

  it('is a usage error (exit 2) without --key', () => {
    const run = townhall('audit', 'verify', bundlePath);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--key/);
  });
});
