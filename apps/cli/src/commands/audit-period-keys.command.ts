import { Help, Option, SubCommand } from 'nest-commander';
import { AuditPeriodKeys, RotateAuditPeriodKeys } from '@townhall/compliance';
import { helpText, notice, printFields, printJson, printTable } from '../cli-output';
import { CommandGroup } from './command-group';
import { PlatformCommand } from './platform-command';

@SubCommand({
  name: 'list',
  description:
    'list the audit period keys: when each began, was destroyed, and from when its erasures are final',
})
export class AuditPeriodKeysListCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the keys as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      ['townhall audit period-keys list', 'townhall audit period-keys list --json'],
      [
        'An erasure is final once the key its subject was wrapped under is destroyed and every backup',
        'made before that has expired ("final from": destroyed + TOWNHALL_BACKUP_RETENTION_DAYS; for a',
        'key still alive, the earliest that can be if the rotation after this month destroys it).',
      ],
    );
  }

  async run(_params: string[], options: { json?: boolean } = {}): Promise<void> {
    const keys = await (await this.runtime.open()).get(AuditPeriodKeys).list();
    if (options.json) {
      printJson(keys);
      return;
    }
    printTable(
      ['id', 'starts', 'destroyed', 'subjects', 'erased', 'erasures final from'],
      keys.map((k) => [
        k.id,
        k.startsAt.toISOString(),
        k.destroyedAt?.toISOString() ?? '',
        k.subjects,
        k.erased,
        `${k.finalFrom.toISOString()}${k.destroyedAt ? '' : ' (expected)'}`,
      ]),
    );
  }
}

@SubCommand({
  name: 'rotate',
  description:
    'rotate the audit period keys now: start a period if one is due, re-wrap live subjects, destroy unused keys',
})
export class AuditPeriodKeysRotateCommand extends PlatformCommand {
  @Option({
    flags: '--new-period',
    description: 'start a new period now, whatever the calendar says (after an urgent erasure)',
  })
  newPeriod(): boolean {
    return true;
  }

  @Option({ flags: '--json', description: 'print what was done as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      ['townhall audit period-keys rotate', 'townhall audit period-keys rotate --new-period --json'],
      [
        'Workers do this every hour and start a period each calendar month (UTC). With --new-period the',
        'key that wrapped a subject erased today is destroyed now rather than after the month, so the',
        'erasure is final once the backups made before now have expired. Each new and each destroyed key',
        'is recorded in the audit log. See docs/operations.md, "Audit period keys".',
      ],
    );
  }

  async run(_params: string[], options: { newPeriod?: boolean; json?: boolean } = {}): Promise<void> {
    let last = 0;
    const rotation = await this.runtime.act((context) =>
      context.get(RotateAuditPeriodKeys).run({
        newPeriod: options.newPeriod ?? false,
        progress: (n) => {
          if (Date.now() - last < 1000) return;
          last = Date.now();
          notice(`re-wrapping audit subjects: ${n}`);
        },
      }),
    );
    if (options.json) {
      printJson(rotation);
      return;
    }
    printFields([
      [
        'period started',
        rotation.started ? `${rotation.started.id} (${rotation.started.startsAt.toISOString()})` : '—',
      ],
      ['subjects re-wrapped', rotation.rewrapped],
      ['keys destroyed', rotation.destroyed.map((k) => k.id).join(', ') || '—'],
    ]);
  }
}

export const AUDIT_PERIOD_KEY_SUBCOMMANDS = [AuditPeriodKeysListCommand, AuditPeriodKeysRotateCommand];

@SubCommand({
  name: 'period-keys',
  description: 'the keys that wrap audit subjects, one per period: list them, rotate them now',
  subCommands: AUDIT_PERIOD_KEY_SUBCOMMANDS,
})
export class AuditPeriodKeysCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText(['townhall audit period-keys list', 'townhall audit period-keys rotate --new-period']);
  }
}
