import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Command, CommandRunner, Help, Option, SubCommand } from 'nest-commander';
import { decodeSecretKey, SECRET_KEY_RECIPE, secretKeyId } from '@townhall/core';
import { RotateSecretKey, type RotationProgress } from '@townhall/platform';
import { CliUsageError, helpText, notice, printFields, printJson, printLine } from '../cli-output';
import { CommandGroup } from './command-group';
import { PlatformCommand } from './platform-command';

@SubCommand({
  name: 'rotate',
  description:
    'seal every stored secret with a new secret key; from then on only the new key opens the platform',
})
export class SecretKeyRotateCommand extends PlatformCommand {
  @Option({
    flags: '--new-key-file <file>',
    description: 'the new key (32 bytes in base64) in a file, or - to read it from standard input',
    required: true,
  })
  newKeyFile(value: string): string {
    return value;
  }

  @Option({ flags: '--json', description: 'print the key ids and what was re-sealed as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        `${SECRET_KEY_RECIPE} > new.key && chmod 600 new.key`,
        'townhall secret-key rotate --new-key-file new.key   # TOWNHALL_SECRET_KEY holds the current key',
        'vault kv get -field=key secret/townhall | townhall secret-key rotate --new-key-file -',
      ],
      [
        'Run it with the current key in TOWNHALL_SECRET_KEY, as always, and with every other Townhall',
        'process stopped (servers, workers, other commands): they hold the old key. It refuses to start',
        'while another process is connected. In one transaction it re-seals actor keys, audit signing keys',
        'and audit subject keys (recomputing their lookup digests), stores the new key’s check value and',
        'records `secret_key.rotate`; a crash at any point leaves the old key or the new key working,',
        'never both, never neither. Then start every process with the new key. The new key is never',
        'taken from the command line, where other users and the shell history could see it.',
        'See docs/operations.md, "The secret key".',
      ],
    );
  }

  async run(_params: string[], options: { newKeyFile: string; json?: boolean }): Promise<void> {
    const next = await readNewKey(options.newKeyFile);
    const progress = progressPrinter();
    const rotation = await this.runtime.act(
      (context) => context.get(RotateSecretKey).run(next, progress),
      // Its own entry waits for the next process with the new key: this one holds the old key.
      { sequence: false },
    );
    if (options.json) {
      printJson(rotation);
      return;
    }
    printFields([
      ['previous key id', rotation.previousKeyId],
      ['key id', rotation.keyId],
      ...rotation.resealed.map(({ label, count }): [string, number] => [label, count]),
    ]);
    notice(
      'Done. Start every process with the new key; the old key opens nothing here any more (keep it only as long as backups made before now).',
    );
  }
}

@SubCommand({
  name: 'generate',
  description: 'print a new random secret key (32 bytes in base64) and, on standard error, its key id',
})
export class SecretKeyGenerateCommand extends CommandRunner {
  @Help('after')
  examples(): string {
    return helpText(
      ['townhall secret-key generate > new.key', `${SECRET_KEY_RECIPE}   # the same, without Townhall`],
      ['Needs no database. Keep the key where only the platform’s processes can read it.'],
    );
  }

  async run(): Promise<void> {
    const key = randomBytes(32);
    printLine(key.toString('base64'));
    notice(`key id ${secretKeyId(key)}`);
  }
}

export const SECRET_KEY_SUBCOMMANDS = [SecretKeyRotateCommand, SecretKeyGenerateCommand];

@Command({
  name: 'secret-key',
  description: 'the platform’s secret key (TOWNHALL_SECRET_KEY): generate one, rotate to a new one',
  subCommands: SECRET_KEY_SUBCOMMANDS,
})
export class SecretKeyCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText([
      'townhall secret-key generate > new.key',
      'townhall secret-key rotate --new-key-file new.key',
    ]);
  }
}

/** The new key from a file or standard input; a usage error, before anything is opened, if it is not one. */
async function readNewKey(file: string): Promise<Buffer> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new CliUsageError(
      `cannot read the new key from ${file === '-' ? 'standard input' : file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const key = decodeSecretKey(text);
  if (!key) {
    throw new CliUsageError(
      `the new key must be 32 bytes in base64, alone in its file (try: ${SECRET_KEY_RECIPE})`,
    );
  }
  return key;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  return text;
}

/** Progress on standard error: each kind when it starts and ends, and about once a second in between. */
function progressPrinter(): (p: RotationProgress) => void {
  let label = '';
  let last = 0;
  return ({ label: kind, done, total }) => {
    const now = Date.now();
    if (kind === label && done < total && now - last < 1000) return;
    label = kind;
    last = now;
    notice(`re-sealing ${kind}: ${done}/${total}`);
  };
}
