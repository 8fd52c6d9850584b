import { rawEd25519PublicKey } from '../audit-keys';
import { checkpointSigningInput, type AuditCheckpoint } from '../checkpoint';
import { buildLog, ed25519FromSeed, GENERATED_AT, TRUSTED_KEYS } from '../testing/audit-log-fixture';
import { runVerifyCommand } from '../verify-command';
import { verifyCommandIo } from '../testing/command-io';
import { cosign } from './cosignature';
import { formatVerifierKey, NOTE_COSIGNATURE_V1 } from './signed-note';

/**
 * `townhall audit verify --witness KEY … --witnesses-required K` over bundles whose checkpoints carry
 * cosignatures: the bundle's newest checkpoint must be cosigned by K of the given witnesses.
 */
const witness = (name: string) => {
  const key = ed25519FromSeed(`policy spec ${name}`);
  return { name, key, vkey: formatVerifierKey(name, NOTE_COSIGNATURE_V1, rawEd25519PublicKey(key)) };
};
const W1 = witness('witness.dpa.example/w1');
const W2 = witness('witness.dsc.example/w2');
const W3 = witness('witness.court.example/w3');
const TIMESTAMP = Date.parse('2025-04-01T00:00:00.000Z') / 1000;

function cosigned(
  cp: AuditCheckpoint,
  by: readonly { name: string; key: ReturnType<typeof ed25519FromSeed> }[],
) {
  const text = checkpointSigningInput(cp).toString('utf8');
  return { ...cp, cosignatures: by.map((w) => cosign(text, w.name, w.key, TIMESTAMP)) };
}

/** A 350-entry log whose newest checkpoint is cosigned by `newest`, and the one before by W1, W2 and W3. */
function bundle(newest: readonly (typeof W1)[]): string {
  const log = buildLog({ size: 350 });
  const last = log.checkpoints.length - 1;
  log.checkpoints[last - 1] = cosigned(log.checkpoints[last - 1], [W1, W2, W3]);
  log.checkpoints[last] = cosigned(log.checkpoints[last], newest);
  return log.exportText({ generatedAt: GENERATED_AT });
}

const io = verifyCommandIo;

const FILES = {
  'keys.json': JSON.stringify(TRUSTED_KEYS),
  'both.ndjson': bundle([W1, W2]),
  'w1.ndjson': bundle([W1]),
  'none.ndjson': bundle([]),
  'witnesses.txt': `# the regulators' witnesses\n${W1.vkey}\n\n${W2.vkey}\n`,
};

const verify = (bundleFile: string, ...extra: string[]) => {
  const run = io(FILES);
  return runVerifyCommand([bundleFile, '--key', 'keys.json', ...extra], run).then((code) => ({
    code,
    ...run,
  }));
};

describe('townhall audit verify --witness', () => {
  it('accepts a bundle whose newest checkpoint every given witness cosigned, naming them', async () => {
    const run = await verify('both.ndjson', '--witness', W1.vkey, '--witness', W2.vkey);
    expect(run.err).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.out[0]).toMatch(
      /; cosigned by 2 witnesses \(2 required\): witness\.dpa\.example\/w1 at 2025-04-01T00:00:00\.000Z, witness\.dsc\.example\/w2/,
    );
  });

  it('refuses a bundle whose newest checkpoint lacks the cosignatures required, naming who is missing', async () => {
    const none = await verify('none.ndjson', '--witness', W1.vkey);
    expect(none.code).toBe(1);
    expect(none.err[0]).toMatch(
      /^FAILED checkpoint 350: unwitnessed: the newest checkpoint \(tree size 350\) carries valid cosignatures of 0 of the 1 witnesses required; no cosignature of witness\.dpa\.example\/w1/,
    );
    // The checkpoint before it was cosigned by everyone: what counts is the newest.
    const one = await verify('w1.ndjson', '--witness', 'witnesses.txt');
    expect(one.code).toBe(1);
    expect(one.err[0]).toMatch(
      /1 of the 2 witnesses required: cosigned by witness\.dpa\.example\/w1 .*; no cosignature of witness\.dsc\.example\/w2/,
    );
  });

  it('takes K of N with --witnesses-required, and ignores cosignatures of witnesses not given', async () => {
    expect((await verify('w1.ndjson', '--witness', 'witnesses.txt', '--witnesses-required', '1')).code).toBe(
      0,
    );
    // W3 cosigned only the checkpoint before; W2's cosignature on the newest means nothing when W2 is not given.
    expect((await verify('both.ndjson', '--witness', W3.vkey)).code).toBe(1);
    expect(
      (await verify('both.ndjson', '--witness', W1.vkey, '--witness', W3.vkey, '--witnesses-required', '1'))
        .code,
    ).toBe(0);
  });

  it('refuses a bundle with a forged cosignature of a given witness', async () => {
    // A character well inside the Ed25519 signature (past the key ID and the timestamp): the line is
    // still W1's by name and key ID, so it must verify. (A changed key ID would make it someone else's.)
    const forged = FILES['both.ndjson'].replace(
      /("name":"witness\.dpa\.example\/w1","signature":".{40})(.)/g,
      (_m, head: string, c: string) => head + (c === 'A' ? 'B' : 'A'),
    );
    const run = io({ ...FILES, 'forged.ndjson': forged });
    expect(await runVerifyCommand(['forged.ndjson', '--key', 'keys.json', '--witness', W1.vkey], run)).toBe(
      1,
    );
    expect(run.err[0]).toMatch(
      /^FAILED checkpoint \d+: bad_signature: the cosignature of witness witness\.dpa\.example\/w1/,
    );
  });

  it('verifies as before without --witness, cosignatures or not', async () => {
    for (const file of ['both.ndjson', 'none.ndjson']) expect((await verify(file)).code).toBe(0);
  });

  it('refuses unusable witness arguments with exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--witnesses-required', '1'], /needs the witnesses/],
      [['--witness', W1.vkey, '--witnesses-required', '2'], /only 1 witnesses are given/],
      [['--witness', W1.vkey, '--witnesses-required', '0'], /from 1 on/],
      [['--witness', W1.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')], /key ID is not the one/],
      [['--witness', 'missing.txt'], /missing\.txt: not a verifier key, and not a file that can be read/],
      [['--witness', 'keys.json'], /keys\.json: .*is not a verifier key/],
    ];
    for (const [args, message] of cases) {
      const run = await verify('both.ndjson', ...args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.err[0]).toMatch(message);
    }
  });
});
