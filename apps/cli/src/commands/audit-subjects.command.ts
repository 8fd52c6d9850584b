import { createInterface } from 'node:readline/promises';
import { Help, Option, SubCommand } from 'nest-commander';
import { AuditPeriodKeys, AuditSubjects, MAX_SUBJECT_IDENTIFIER } from '@townhall/compliance';
import { isId } from '@townhall/persistence';
import { CliError, CliUsageError, helpText, notice, printJson, printLine } from '../cli-output';
import { CommandGroup } from './command-group';
import { PlatformCommand } from './platform-command';

@SubCommand({
  name: 'find',
  arguments: '<identifier>',
  argsDescription: {
    identifier:
      'the person as recorded: email:<address in lower case>, operator:<id>, os-user:<account>@<host>',
  },
  description: 'print the pseudonymous subject id the audit log uses for a person',
})
export class AuditSubjectsFindCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print {"subjectId": …} as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall audit subjects find email:press@bmi.example',
        'townhall audit subjects find operator:7380412938240000011 --json',
      ],
      ['The lookup is recorded; the identifier is kept only encrypted. Exit status 1 if no subject has it.'],
    );
  }

  async run([identifier]: string[], options: { json?: boolean } = {}): Promise<void> {
    if (identifier.length > MAX_SUBJECT_IDENTIFIER)
      throw new CliUsageError(`an identifier is at most ${MAX_SUBJECT_IDENTIFIER} characters`);
    const subjectId = await this.runtime.act((context) => context.get(AuditSubjects).find(identifier));
    if (subjectId === null) throw new CliError('no subject has this identifier (never recorded, or erased)');
    if (options.json) printJson({ subjectId });
    else printLine(subjectId);
  }
}

@SubCommand({
  name: 'erase',
  arguments: '<subject-id>',
  argsDescription: { 'subject-id': 'the subject id, as `audit subjects find` prints it' },
  description: 'erase a person from the audit log: their personal data there becomes unreadable for good',
})
export class AuditSubjectsEraseCommand extends PlatformCommand {
  @Option({ flags: '--yes', description: 'do not ask for confirmation (for scripts)' })
  yes(): boolean {
    return true;
  }

  @Option({
    flags: '--json',
    description: 'print {"subjectId", "erased": true, "periodKeyId", "finalFrom"} as JSON',
  })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall audit subjects erase 7380412938240000301',
        'townhall audit subjects erase 7380412938240000301 --yes',
      ],
      [
        'Destroys the subject’s key. Every entry, checkpoint and proof stays valid; the personal data',
        'behind the subject id cannot be read any more. Cannot be undone. Copies made before (backups)',
        'open with the secret key until the period key the subject was wrapped under is destroyed; the',
        'erasure is final once that has happened and those backups have expired: the command says from',
        'when. Personal data kept elsewhere (tenant records, tenant instances) is not touched: see',
        'docs/compliance.md, "Erasure".',
      ],
    );
  }

  async run([subjectId]: string[], options: { yes?: boolean; json?: boolean } = {}): Promise<void> {
    if (!isId(subjectId))
      throw new CliUsageError('subject-id must be a subject id, as `audit subjects find` prints it');
    if (!options.yes) await confirm(subjectId);
    const { erased, key } = await this.runtime.act(async (context) => {
      const done = await context.get(AuditSubjects).erase(subjectId);
      return {
        erased: done,
        key: done.periodKeyId === null ? null : await context.get(AuditPeriodKeys).of(done.periodKeyId),
      };
    });
    const finalFrom = key?.finalFrom.toISOString() ?? null;
    if (options.json) {
      printJson({ subjectId, erased: true, periodKeyId: erased.periodKeyId, finalFrom });
      return;
    }
    notice(`Subject ${subjectId} is erased: its personal data in the audit log can no longer be read.`);
    if (key && !key.destroyedAt) {
      notice(
        `Copies made before now (backups, old row versions) open with the secret key until period key ${key.id} is destroyed, at the first rotation after this period (\`townhall audit period-keys rotate --new-period\` does it now). Final from ${finalFrom} on that schedule: destruction plus the backup retention.`,
      );
    } else if (key) {
      notice(
        `Final from ${finalFrom}: period key ${key.id} is destroyed, and backups made before then expire.`,
      );
    }
  }
}

/** Asks a person at a terminal to type the subject id; without a terminal, --yes is required. */
async function confirm(subjectId: string): Promise<void> {
  if (!process.stdin.isTTY)
    throw new CliUsageError('erasing cannot be undone: pass --yes to confirm when not at a terminal');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(
      `Erasing subject ${subjectId} cannot be undone. Type the subject id to confirm: `,
    );
    if (answer.trim() !== subjectId) throw new CliError('not confirmed; nothing was erased');
  } finally {
    prompt.close();
  }
}

export const AUDIT_SUBJECT_SUBCOMMANDS = [AuditSubjectsFindCommand, AuditSubjectsEraseCommand];

@SubCommand({
  name: 'subjects',
  description: 'find and erase the people behind the audit log’s pseudonymous subject ids',
  subCommands: AUDIT_SUBJECT_SUBCOMMANDS,
})
export class AuditSubjectsCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText([
      'townhall audit subjects find email:press@bmi.example',
      'townhall audit subjects erase 7380412938240000301',
    ]);
  }
}
