import { publicKeyPem } from './audit-keys';
import { verifyCommandIo } from './testing/command-io';
import { runVerifyCommand, runVerifyConsistencyCommand } from './verify-command';
import {
  buildLog,
  bundleLines,
  GENERATED_AT,
  indexOfEntry,
  joinLines,
  OLD_KEY,
  parseLine,
  TRUSTED_KEYS,
} from './testing/audit-log-fixture';

const log = buildLog({ size: 350 });
const bundle = log.exportText({ generatedAt: GENERATED_AT });

function broken(): string {
  const lines = bundleLines(bundle);
  lines.splice(indexOfEntry(lines, 120), 1);
  return joinLines(lines);
}

function cp(size: number): string {
  return JSON.stringify(log.checkpoints.find((c) => c.treeSize === size));
}

const io = verifyCommandIo;

const FILES = {
  'bundle.ndjson': bundle,
  'broken.ndjson': broken(),
  'keys.json': JSON.stringify(TRUSTED_KEYS),
  'old.pem': publicKeyPem(OLD_KEY),
  'cp200.json': cp(200),
  'garbage.txt': 'not a key',
};

describe('townhall audit verify (runVerifyCommand)', () => {
  it('exits 0 with a one-line summary for a valid bundle', async () => {
    const run = io(FILES, { stream: true });
    expect(await runVerifyCommand(['bundle.ndjson', '--key', 'keys.json'], run)).toBe(0);
    expect(run.out).toHaveLength(1);
    expect(run.out[0]).toMatch(
      /^OK townhall\.test\/audit: seq 0–349, 350 entries, 4 checkpoints verified; newest checkpoint: tree size 350/,
    );
    expect(run.err).toEqual([]);
  });

  it.each([['--threads', '0'], ['--threads=2']])('takes %s worker threads', async (...threads) => {
    const run = io(FILES, { stream: true });
    expect(await runVerifyCommand(['bundle.ndjson', '--key', 'keys.json', ...threads], run)).toBe(0);
    expect(run.out[0]).toMatch(/^OK townhall\.test\/audit: seq 0–349, 350 entries/);
  });

  it('accepts a PEM key, --key=FILE and --since, and says what it was consistent with', async () => {
    const run = io(FILES);
    expect(await runVerifyCommand(['--since', 'cp200.json', '--key=old.pem', 'bundle.ndjson'], run)).toBe(0);
    expect(run.out[0]).toMatch(/consistent with the checkpoint of tree size 200$/);
  });

  it('exits 1 naming the first failing sequence number and why', async () => {
    const run = io(FILES, { stream: true });
    expect(await runVerifyCommand(['broken.ndjson', '--key', 'keys.json'], run)).toBe(1);
    expect(run.out).toEqual([]);
    expect(run.err).toEqual([expect.stringMatching(/^FAILED seq 120: missing: seq 120 is missing/)]);
  });

  it.each([{ stream: true }, { stream: false }])(
    'says what a byte-order mark in front of the bundle means (%o)',
    async (options) => {
      const run = io({ ...FILES, 'bom.ndjson': `\uFEFF${bundle}` }, options);
      expect(await runVerifyCommand(['bom.ndjson', '--key', 'keys.json'], run)).toBe(1);
      expect(run.err).toEqual([
        expect.stringMatching(/byte-order mark, which exports never have: it was re-saved/),
      ]);
    },
  );

  it('exits 1 naming the checkpoint when the --since checkpoint is not in the bundle’s history', async () => {
    const other = buildLog({
      size: 350,
      rewrite: (input, seq) => (seq === 5 ? { ...input, action: 'tenant.delete' } : input),
    });
    const files = { ...FILES, 'other.ndjson': other.exportText({ generatedAt: GENERATED_AT }) };
    const run = io(files);
    expect(await runVerifyCommand(['other.ndjson', '--key', 'keys.json', '--since', 'cp200.json'], run)).toBe(
      1,
    );
    expect(run.err[0]).toMatch(/^FAILED checkpoint 200: inconsistent: /);
  });

  it.each([
    [[], /BUNDLE is missing/],
    [['bundle.ndjson'], /--key FILE is required/],
    [['bundle.ndjson', '--key'], /--key needs a file/],
    [['a', 'b', '--key', 'keys.json'], /one BUNDLE only/],
    [['bundle.ndjson', '--key', 'keys.json', '--verbose'], /unknown option --verbose/],
    [['bundle.ndjson', '--key', 'keys.json', '--key', 'old.pem'], /--key is given twice/],
    [['bundle.ndjson', '--key', 'missing.json'], /cannot read key file missing\.json/],
    [['bundle.ndjson', '--key', 'garbage.txt'], /--key garbage\.txt: expected a PEM public key/],
    [['bundle.ndjson', '--key', 'keys.json', '--since', 'garbage.txt'], /--since garbage\.txt: not JSON/],
    [['nothere.ndjson', '--key', 'keys.json'], /cannot read bundle nothere\.ndjson/],
    [
      ['bundle.ndjson', '--key', 'keys.json', '--threads', 'many'],
      /--threads needs a whole number from 0 to 16/,
    ],
    [['bundle.ndjson', '--key', 'keys.json', '--threads', '17'], /--threads needs a whole number/],
    [['bundle.ndjson', '--key', 'keys.json', '--threads=1', '--threads=2'], /--threads is given twice/],
  ])('exits 2 for the usage error %j', async (argv, message) => {
    const run = io(FILES);
    expect(await runVerifyCommand(argv, run)).toBe(2);
    expect(run.err[0]).toMatch(message);
    expect(run.out).toEqual([]);
  });

  it('prints help with exit 0', async () => {
    const run = io(FILES);
    expect(await runVerifyCommand(['--help'], run)).toBe(0);
    expect(run.out[0]).toContain('usage: townhall audit verify BUNDLE --key FILE [--since CHECKPOINT_FILE]');
  });

  it('reports a tenant-filtered export in the summary', async () => {
    const files = {
      ...FILES,
      'tenant.ndjson': log.exportText({
        tenant: parseLine(bundleLines(bundle)[3]).entry?.tenant ?? null,
        generatedAt: GENERATED_AT,
      }),
    };
    const run = io(files);
    expect(await runVerifyCommand(['tenant.ndjson', '--key', 'keys.json'], run)).toBe(0);
    expect(run.out[0]).toMatch(/entries shown \(tenant \d+\), \d+ omitted by hash/);
  });
});

describe('townhall audit verify-consistency (runVerifyConsistencyCommand)', () => {
  const files = {
    ...FILES,
    'proof.json': JSON.stringify(log.consistencyProof(200)),
    'rewritten.json': JSON.stringify(
      buildLog({
        size: 350,
        rewrite: (input, seq) => (seq === 5 ? { ...input, action: 'tenant.delete' } : input),
      }).consistencyProof(200),
    ),
  };

  it('exits 0 saying what extends what, and prints the newer checkpoint to keep', async () => {
    const run = io(files);
    expect(
      await runVerifyConsistencyCommand(['proof.json', '--key', 'keys.json', '--since', 'cp200.json'], run),
    ).toBe(0);
    expect(run.err).toEqual([
      expect.stringMatching(
        /^OK townhall\.test\/audit: checkpoint 350 \(root .*\) extends the checkpoint of tree size 200/,
      ),
    ]);
    expect(JSON.parse(run.out[0])).toEqual(log.newestCheckpoint());
  });

  it('exits 1 when history up to the checkpoint kept was rewritten', async () => {
    const run = io(files);
    expect(
      await runVerifyConsistencyCommand(['rewritten.json', '--key', 'old.pem', '--since', 'cp200.json'], run),
    ).toBe(1);
    expect(run.err[0]).toMatch(/^FAILED checkpoint 200: inconsistent: /);
    expect(run.out).toEqual([]);
  });

  it.each([
    [['proof.json', '--key', 'keys.json'], /--since CHECKPOINT_FILE is required/],
    [['--key', 'keys.json', '--since', 'cp200.json'], /PROOF is missing/],
    [
      ['proof.json', '--key', 'keys.json', '--since', 'cp200.json', '--threads', '1'],
      /unknown option --threads/,
    ],
    [['garbage.txt', '--key', 'keys.json', '--since', 'cp200.json'], /garbage\.txt: not JSON/],
  ])('exits 2 for the usage error %j', async (argv, message) => {
    const run = io(files);
    expect(await runVerifyConsistencyCommand(argv, run)).toBe(2);
    expect(run.err[0]).toMatch(message);
  });
});
