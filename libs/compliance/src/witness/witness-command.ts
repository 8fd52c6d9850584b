import { resolve } from 'node:path';
import { ComplianceError } from '../compliance.errors';
import { NOTE_ED25519, type NoteVerifierKey } from './signed-note';
import { originHash, WitnessFiles } from './witness-files';
import { readVerifierKeys, splitOption } from './verifier-key-arguments';
import { Witness } from './witness';
import { startWitnessServer } from './witness-server';

/**
 * `townhall witness`: the witness a regulator runs on a machine of its own (docs/operations.md,
 * "Witnesses"). A pure function of its arguments and a few effects, so the CLI mounts it in a few
 * lines; it loads nothing of the platform and needs no PostgreSQL or Redis. Exit 0 after a clean
 * stop, 2 for a wrong command line or an unusable data directory.
 */

export interface WitnessCommandIo {
  readFile(path: string): Promise<string>;
  stdout(line: string): void;
  stderr(line: string): void;
  /** Resolves when the witness should stop (SIGTERM, SIGINT). */
  stopped(): Promise<void>;
}

export const DEFAULT_WITNESS_LISTEN = '127.0.0.1:7380';
export const DEFAULT_WITNESS_DIR = 'var/witness';

export const WITNESS_USAGE = [
  'usage: townhall witness --log LOG_KEY [--log LOG_KEY …] [--name NAME] [--data-dir DIR] [--listen HOST:PORT]',
  '       townhall witness --print-key [--name NAME] [--data-dir DIR]',
].join('\n');

export const WITNESS_HELP = [
  WITNESS_USAGE,
  '',
  'Runs a transparency-log witness (C2SP tlog-witness): it cosigns a log checkpoint only when the log',
  'proves it consistent with the last one it cosigned, so two views of one log never both carry its',
  'cosignature. Give its verifier key to the platform operator (TOWNHALL_AUDIT_WITNESSES) and verify',
  'exports with `townhall audit verify … --witness KEY`. Needs no database: its state is a directory.',
  '',
  '  --log LOG_KEY      a log to witness: its note verifier key (origin+keyID+key), as',
  '                     GET /api/platform/v1/audit/verifier-keys lists them, or a file of such keys,',
  '                     one a line; repeat for more keys (a rotated log key) or more logs',
  "  --name NAME        the witness's name (e.g. witness.dpa.example/w1); needed on the first start,",
  '                     which creates its key; fixed after that',
  `  --data-dir DIR     its key and state (default ${DEFAULT_WITNESS_DIR}); one witness per directory`,
  `  --listen HOST:PORT where to serve HTTP (default ${DEFAULT_WITNESS_LISTEN}); 0.0.0.0:7380 for every`,
  '                     address; put TLS in front when it leaves the machine',
  "  --print-key        print the witness's verifier key (creating the key on first use) and exit",
  '',
  'Serves POST /add-checkpoint, GET /<sha256(origin) in hex>/checkpoint (the last checkpoint it cosigned)',
  'and GET / (who it is). Stops on SIGTERM or SIGINT. Exit status: 0 stopped, 2 usage or data directory.',
].join('\n');

export const WITNESS_EXAMPLES = [
  'townhall witness --name witness.dpa.example/w1 --data-dir /var/lib/townhall-witness --print-key',
  'townhall witness --data-dir /var/lib/townhall-witness --listen 0.0.0.0:7380 --log "social.gov.example/audit+4f6a0c1e+AUm…"',
  'townhall witness --data-dir /var/lib/townhall-witness --log log-keys.txt',
];

const EXIT_OK = 0;
const EXIT_USAGE = 2;

interface WitnessArguments {
  logs: string[];
  name: string | null;
  dataDir: string;
  listen: { host: string; port: number };
  printKey: boolean;
}

class UsageError {
  constructor(readonly message: string) {}
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535 || String(port) !== match[3]) {
    throw new UsageError(`--listen ${value}: expected HOST:PORT, e.g. 127.0.0.1:7380 or [::]:7380`);
  }
  return { host: match[1] ?? match[2], port };
}

function parseArguments(argv: readonly string[]): WitnessArguments | 'help' {
  const args: WitnessArguments = {
    logs: [],
    name: null,
    dataDir: DEFAULT_WITNESS_DIR,
    listen: parseListen(DEFAULT_WITNESS_LISTEN),
    printKey: false,
  };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    const [flag, inline] = splitOption(arg);
    if (flag === '--print-key') {
      args.printKey = true;
      continue;
    }
    if (!['--log', '--name', '--data-dir', '--listen'].includes(flag)) {
      throw new UsageError(arg.startsWith('-') ? `unknown option ${arg}` : `unexpected argument ${arg}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
    if (flag !== '--log' && seen.has(flag)) throw new UsageError(`${flag} is given twice`);
    seen.add(flag);
    if (flag === '--log') args.logs.push(value);
    else if (flag === '--name') args.name = value;
    else if (flag === '--data-dir') args.dataDir = value;
    else args.listen = parseListen(value);
  }
  if (!args.printKey && args.logs.length === 0) {
    throw new UsageError('--log LOG_KEY is required: the log (or logs) this witness witnesses');
  }
  return args;
}

async function readLogKeys(io: WitnessCommandIo, values: readonly string[]): Promise<NoteVerifierKey[]> {
  const keys = new Map<string, NoteVerifierKey>();
  for (const value of values) {
    try {
      for (const key of await readVerifierKeys(value, [NOTE_ED25519], (path) => io.readFile(path))) {
        keys.set(key.text, key);
      }
    } catch (err) {
      throw new UsageError(`--log ${reason(err)}`);
    }
  }
  return [...keys.values()];
}

function reason(err: unknown): string {
  if (err instanceof ComplianceError) return err.detail ?? err.message;
  return err instanceof Error ? err.message : String(err);
}

function describe(name: string, vkey: string, origins: readonly string[]): string {
  return [
    `townhall witness ${name}`,
    `verifier key: ${vkey}`,
    ...origins.map((o) => `witnesses: ${o} (GET /${originHash(o)}/checkpoint)`),
  ].join('\n');
}

export async function runWitnessCommand(argv: readonly string[], io: WitnessCommandIo): Promise<number> {
  let args: WitnessArguments;
  let logKeys: NoteVerifierKey[] = [];
  try {
    const parsed = parseArguments(argv);
    if (parsed === 'help') {
      io.stdout(WITNESS_HELP);
      return EXIT_OK;
    }
    args = parsed;
    if (!args.printKey) logKeys = await readLogKeys(io, args.logs);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`townhall witness: ${err.message}`);
    io.stderr(WITNESS_USAGE);
    return EXIT_USAGE;
  }

  const dir = resolve(args.dataDir);
  if (args.printKey) {
    // An existing key is read without the lock, so a serving witness's key can be printed too.
    try {
      const existing = await WitnessFiles.readIdentity(dir, args.name);
      if (existing) {
        io.stdout(existing.vkey);
        return EXIT_OK;
      }
    } catch (err) {
      io.stderr(`townhall witness: ${reason(err)}`);
      return EXIT_USAGE;
    }
  }
  let files: WitnessFiles;
  try {
    files = await WitnessFiles.open(dir);
  } catch (err) {
    io.stderr(`townhall witness: cannot use ${dir}: ${reason(err)}`);
    return EXIT_USAGE;
  }
  try {
    let identity;
    try {
      identity = await files.identity(args.name);
      // A damaged state file stops the witness here rather than at the first request.
      for (const key of logKeys) await files.read(key.name);
    } catch (err) {
      io.stderr(`townhall witness: ${reason(err)}`);
      return EXIT_USAGE;
    }
    if (args.printKey) {
      io.stdout(identity.vkey);
      return EXIT_OK;
    }
    const witness = new Witness(identity, logKeys, files, (event) =>
      io.stderr(
        `${new Date().toISOString()} ${event.level} ${event.status}${event.origin ? ` ${event.origin}` : ''}: ${event.message}`,
      ),
    );
    const about = describe(identity.name, identity.vkey, witness.origins());
    let server;
    try {
      server = await startWitnessServer(witness, about, args.listen);
    } catch (err) {
      io.stderr(`townhall witness: cannot listen on ${args.listen.host}:${args.listen.port}: ${reason(err)}`);
      return EXIT_USAGE;
    }
    io.stdout(`${about}\nstate: ${dir}\nListening on ${server.url}`);
    await io.stopped();
    await server.close();
    return EXIT_OK;
  } finally {
    await files.close();
  }
}
