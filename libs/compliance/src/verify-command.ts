import { availableParallelism } from 'node:os';
import { AuditKeyring } from './audit-keys';
import { verifyAuditBundle } from './audit-bundle-verifier';
import { verifyAuditConsistency, type AuditConsistencySummary } from './audit-consistency';
import type { AuditVerificationFailure, AuditVerificationSummary } from './audit-verification';
import { parseCheckpoint, type AuditCheckpoint } from './checkpoint';
import { NOTE_COSIGNATURE_V1, type NoteVerifierKey } from './witness/signed-note';
import { readVerifierKeys, splitOption } from './witness/verifier-key-arguments';
import { checkWitnessPolicy, type WitnessCosignature, type WitnessPolicy } from './witness/witness-policy';
import { parseStrictJson } from './strict-json';

/**
 * `townhall audit verify BUNDLE --key FILE [--since CHECKPOINT_FILE] [--witness KEY …]` as a pure
 * function, so the CLI can mount it in a few lines and tests can run it without a process. Exit codes:
 * 0 the bundle verifies (one summary line on stdout), 1 it does not (one line on stderr naming the first
 * failing sequence number or checkpoint and why, or the witnesses whose cosignature is missing), 2 the
 * command line or an input file is unusable.
 */
export interface VerifyCommandIo {
  /** Reads a whole (small) file: the key file, the --since checkpoint, a file of witness keys. */
  readFile(path: string): Promise<string>;
  /** Streams the bundle; without it the bundle is read whole with readFile. */
  openBundle?(path: string): AsyncIterable<string | Uint8Array>;
  stdout(line: string): void;
  stderr(line: string): void;
}

export const AUDIT_VERIFY_USAGE =
  'usage: townhall audit verify BUNDLE --key FILE [--since CHECKPOINT_FILE] [--witness KEY … [--witnesses-required K]] [--threads N]';

/** Worker threads by default: one core for reading and deciding, the others (at most 3) for hashing. */
export const DEFAULT_VERIFY_THREADS = Math.max(0, Math.min(3, availableParallelism() - 1));
const MAX_VERIFY_THREADS = 16;

export const AUDIT_VERIFY_HELP = [
  AUDIT_VERIFY_USAGE,
  '',
  'Verifies an audit export offline: every entry against the signed checkpoints, every signature against',
  'the trusted keys, and, with --since, that the log still extends a checkpoint you kept from before.',
  '',
  '  BUNDLE                  the NDJSON bundle downloaded from /api/regulator/v1/audit/export',
  '  --key FILE              a PEM public key, or the JSON of GET /api/platform/v1/audit/keys',
  '  --since CHECKPOINT_FILE a checkpoint (JSON) you trust from an earlier export',
  '  --witness KEY           a witness whose cosignature the newest checkpoint must carry: its verifier key',
  '                          (name+keyID+key, C2SP signed-note form) or a file of such keys, one a line;',
  '                          repeat for several witnesses',
  '  --witnesses-required K  how many of the --witness keys must have cosigned (default: all of them)',
  `  --threads N             worker threads that parse and hash a large bundle (default ${DEFAULT_VERIFY_THREADS} here:`,
  '                          the cores but one, at most 3; 0 verifies on one thread)',
  '',
  'Exit status: 0 valid, 1 not valid (the first problem is named), 2 usage error.',
].join('\n');

export const AUDIT_VERIFY_CONSISTENCY_USAGE =
  'usage: townhall audit verify-consistency PROOF --key FILE --since CHECKPOINT_FILE';

export const AUDIT_VERIFY_CONSISTENCY_HELP = [
  AUDIT_VERIFY_CONSISTENCY_USAGE,
  '',
  'Checks offline that a newer checkpoint extends one you kept, without any entries: the proof from',
  'GET /api/regulator/v1/checkpoints/consistency?from=<the size of the checkpoint you kept>.',
  '',
  '  PROOF                   the JSON that endpoint answered, saved to a file',
  '  --key FILE              a PEM public key, or the JSON of GET /api/platform/v1/audit/keys',
  '  --since CHECKPOINT_FILE the checkpoint (JSON) you kept',
  '',
  'On success it prints the newer checkpoint as JSON on stdout: keep it for next time.',
  'Exit status: 0 consistent, 1 not (the reason is named), 2 usage error.',
].join('\n');

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

interface VerifyArguments {
  bundle: string;
  key: string;
  since: string | null;
  threads: number;
  witnesses: string[];
  witnessesRequired: number | null;
}

/** What each command takes: `verify` a bundle, `verify-consistency` a proof (with --since, no threads). */
type VerifyCommandName = 'verify' | 'verify-consistency';

class UsageError {
  constructor(readonly message: string) {}
}

function parseArguments(
  argv: readonly string[],
  command: VerifyCommandName = 'verify',
): VerifyArguments | 'help' {
  const what = command === 'verify' ? 'BUNDLE' : 'PROOF';
  const positional: string[] = [];
  let key: string | null = null;
  let since: string | null = null;
  let threads: number | null = null;
  const witnesses: string[] = [];
  let witnessesRequired: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    const [flag, inline] = splitOption(arg);
    if (flag === '--threads' && command === 'verify') {
      const value = inline ?? argv[++i];
      if (threads !== null) throw new UsageError('--threads is given twice');
      if (value === undefined || !/^\d{1,2}$/.test(value) || Number(value) > MAX_VERIFY_THREADS) {
        throw new UsageError(`--threads needs a whole number from 0 to ${MAX_VERIFY_THREADS}`);
      }
      threads = Number(value);
    } else if (flag === '--witness') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '')
        throw new UsageError('--witness needs a verifier key or a file');
      witnesses.push(value);
    } else if (flag === '--witnesses-required') {
      const value = inline ?? argv[++i];
      if (witnessesRequired !== null) throw new UsageError('--witnesses-required is given twice');
      if (value === undefined || !/^[1-9]\d{0,3}$/.test(value)) {
        throw new UsageError('--witnesses-required needs a whole number from 1 on');
      }
      witnessesRequired = Number(value);
    } else if (flag === '--key' || flag === '--since') {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${flag} needs a file`);
      if (flag === '--key') {
        if (key !== null) throw new UsageError('--key is given twice');
        key = value;
      } else {
        if (since !== null) throw new UsageError('--since is given twice');
        since = value;
      }
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length === 0) throw new UsageError(`${what} is missing`);
  if (positional.length > 1) throw new UsageError(`one ${what} only (got ${positional.join(', ')})`);
  if (key === null) throw new UsageError('--key FILE is required');
  if (since === null && command === 'verify-consistency') {
    throw new UsageError('--since CHECKPOINT_FILE is required: the checkpoint the proof starts from');
  }
  if (witnessesRequired !== null && witnesses.length === 0) {
    throw new UsageError('--witnesses-required needs the witnesses: give each with --witness KEY');
  }
  return {
    bundle: positional[0],
    key,
    since,
    threads: threads ?? DEFAULT_VERIFY_THREADS,
    witnesses,
    witnessesRequired,
  };
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function readInput(io: VerifyCommandIo, path: string, what: string): Promise<string> {
  try {
    return await io.readFile(path);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${reason(err)}`);
  }
}

/** The witnesses of the --witness values (vkeys, or files of them), each once, and how many must have cosigned. */
async function witnessPolicy(io: VerifyCommandIo, args: VerifyArguments): Promise<WitnessPolicy | null> {
  if (args.witnesses.length === 0) return null;
  const keys = new Map<string, NoteVerifierKey>();
  for (const value of args.witnesses) {
    let parsed: NoteVerifierKey[];
    try {
      parsed = await readVerifierKeys(value, [NOTE_COSIGNATURE_V1], (path) => io.readFile(path));
    } catch (err) {
      throw new UsageError(`--witness ${reason(err)}`);
    }
    for (const key of parsed) keys.set(key.text, key);
  }
  const names = [...keys.values()].map((k) => k.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError(`--witness: two different keys are named ${twice}`);
  const required = args.witnessesRequired ?? keys.size;
  if (required > keys.size) {
    throw new UsageError(`--witnesses-required ${required}, but only ${keys.size} witnesses are given`);
  }
  return { witnesses: [...keys.values()], required };
}

export function formatWitnesses(witnessed: readonly WitnessCosignature[], required: number): string {
  const who = witnessed.map((w) => `${w.name} at ${w.time}`).join(', ');
  return `; cosigned by ${witnessed.length} witness${witnessed.length === 1 ? '' : 'es'} (${required} required): ${who}`;
}

export function formatVerificationSummary(s: AuditVerificationSummary): string {
  const range = s.to > s.from ? `seq ${s.from}–${s.to - 1}` : 'no entries';
  const filter = [
    s.filters.tenant !== null ? `tenant ${s.filters.tenant}` : '',
    s.filters.actions ? `actions ${s.filters.actions.join(',')}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const shown = filter
    ? `${s.entries} entries shown (${filter}), ${s.omitted} omitted by hash`
    : `${s.entries} entries`;
  const newest = s.newestCheckpoint
    ? `newest checkpoint: tree size ${s.newestCheckpoint.treeSize}, root ${s.newestCheckpoint.rootHash}, ${s.newestCheckpoint.time}, key ${s.newestCheckpoint.keyId}`
    : 'no checkpoint';
  const since = s.since ? `; consistent with the checkpoint of tree size ${s.since.treeSize}` : '';
  return `OK ${s.origin}: ${range}, ${shown}, ${s.checkpoints} checkpoints verified; ${newest}${since}`;
}

export function formatVerificationFailure(f: AuditVerificationFailure): string {
  const where = [
    f.seq !== undefined ? `seq ${f.seq}` : '',
    f.checkpoint !== undefined ? `checkpoint ${f.checkpoint}` : '',
    f.seq === undefined && f.checkpoint === undefined && f.keyId !== undefined ? `key ${f.keyId}` : '',
    f.seq === undefined && f.checkpoint === undefined && f.keyId === undefined && f.line !== undefined
      ? `line ${f.line}`
      : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `FAILED ${where}: ${f.reason}: ${f.message}`;
}

/** The command line, the keys and the --since checkpoint read; a UsageError for anything unusable. */
async function readInputs(
  argv: readonly string[],
  io: VerifyCommandIo,
  command: VerifyCommandName,
): Promise<
  | {
      args: VerifyArguments;
      keys: AuditKeyring;
      since: AuditCheckpoint | null;
      witnesses: WitnessPolicy | null;
    }
  | 'help'
> {
  const args = parseArguments(argv, command);
  if (args === 'help') return 'help';
  const keyText = await readInput(io, args.key, 'key file');
  let keys: AuditKeyring;
  try {
    keys = AuditKeyring.from(keyText);
  } catch (err) {
    throw new UsageError(`--key ${args.key}: ${reason(err)}`);
  }
  let since: AuditCheckpoint | null = null;
  if (args.since !== null) {
    const sinceText = await readInput(io, args.since, 'checkpoint file');
    try {
      since = parseCheckpoint(sinceText);
    } catch (err) {
      throw new UsageError(`--since ${args.since}: ${reason(err)}`);
    }
  }
  return { args, keys, since, witnesses: await witnessPolicy(io, args) };
}

/** Runs a command's work once its inputs are read, turning usage problems into exit 2 with the usage line. */
async function withInputs(
  argv: readonly string[],
  io: VerifyCommandIo,
  command: VerifyCommandName,
  work: (inputs: {
    args: VerifyArguments;
    keys: AuditKeyring;
    since: AuditCheckpoint | null;
    witnesses: WitnessPolicy | null;
  }) => Promise<number>,
): Promise<number> {
  const [usage, help] =
    command === 'verify'
      ? [AUDIT_VERIFY_USAGE, AUDIT_VERIFY_HELP]
      : [AUDIT_VERIFY_CONSISTENCY_USAGE, AUDIT_VERIFY_CONSISTENCY_HELP];
  try {
    const inputs = await readInputs(argv, io, command);
    if (inputs === 'help') {
      io.stdout(help);
      return EXIT_VALID;
    }
    return await work(inputs);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`townhall audit ${command}: ${err.message}`);
    io.stderr(usage);
    return EXIT_USAGE;
  }
}

export function runVerifyCommand(argv: readonly string[], io: VerifyCommandIo): Promise<number> {
  return withInputs(argv, io, 'verify', async ({ args, keys, since, witnesses }) => {
    let result;
    try {
      const bundle = io.openBundle ? io.openBundle(args.bundle) : await io.readFile(args.bundle);
      result = await verifyAuditBundle(bundle, keys, { since, workers: args.threads });
    } catch (err) {
      // Only reading can fail here: verification reports problems of the bundle as results.
      io.stderr(`townhall audit verify: cannot read bundle ${args.bundle}: ${reason(err)}`);
      return EXIT_USAGE;
    }
    if (result.ok) {
      const witnessed = witnesses ? checkWitnessPolicy(result.summary.newestCheckpoints, witnesses) : null;
      if (witnessed && !witnessed.ok) {
        io.stderr(formatVerificationFailure(witnessed));
        return EXIT_INVALID;
      }
      const cosigned = witnessed && witnesses ? formatWitnesses(witnessed.witnessed, witnesses.required) : '';
      io.stdout(formatVerificationSummary(result.summary) + cosigned);
      return EXIT_VALID;
    }
    io.stderr(formatVerificationFailure(result));
    return EXIT_INVALID;
  });
}

export function formatConsistencySummary(s: AuditConsistencySummary): string {
  const cp = s.checkpoint;
  return `OK ${s.origin}: checkpoint ${cp.treeSize} (root ${cp.rootHash}, ${cp.time}, key ${cp.keyId}) extends the checkpoint of tree size ${s.since.treeSize} (root ${s.since.rootHash})`;
}

/**
 * `townhall audit verify-consistency PROOF --key FILE --since CHECKPOINT_FILE`: checks a consistency
 * proof from the regulator API offline. Exit 0 with the summary on stderr and the newer checkpoint as
 * JSON on stdout (to keep), 1 naming why not, 2 for usage errors.
 */
export function runVerifyConsistencyCommand(argv: readonly string[], io: VerifyCommandIo): Promise<number> {
  return withInputs(argv, io, 'verify-consistency', async ({ args, keys, since }) => {
    const parsed = parseStrictJson(await readInput(io, args.bundle, 'proof file'));
    if ('problem' in parsed) throw new UsageError(`${args.bundle}: ${parsed.problem}`);
    const result = verifyAuditConsistency(parsed.value, keys, since as AuditCheckpoint);
    if (!result.ok) {
      io.stderr(formatVerificationFailure(result));
      return EXIT_INVALID;
    }
    io.stderr(formatConsistencySummary(result.summary));
    io.stdout(JSON.stringify(result.summary.checkpoint));
    return EXIT_VALID;
  });
}
