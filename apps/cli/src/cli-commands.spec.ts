import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import type { Command } from 'commander';
import { CommandFactory, InjectCommander } from 'nest-commander';
import { MAX_DELETION_GRACE_SECONDS } from '@townhall/provisioning';
import { InvalidOptionValue } from './cli-output';
import { CliModule } from './cli.module';
import { MigrateCommand } from './commands/migrate.command';
import { TenantsDeleteCommand } from './commands/tenants-delete.command';
import { TenantsListCommand } from './commands/tenants-list.command';

/**
 * The `townhall` command tree as nest-commander builds it, in this process: no command runs, so no
 * platform is opened (docs/operations.md, "The `townhall` CLI").
 */
@Injectable()
class Program {
  constructor(@InjectCommander() readonly root: Command) {}
}

@Module({ imports: [CliModule], providers: [Program] })
class CommandTree {}

describe('the townhall command tree', () => {
  let cli: INestApplicationContext;
  let root: Command;

  beforeAll(async () => {
    cli = await CommandFactory.createWithoutRunning(CommandTree, { logger: false });
    root = cli.get(Program).root;
  });

  afterAll(async () => {
    await cli?.close();
  });

  /** Every command below `command`, with its path (`tenants delete`). */
  function commands(command: Command, path: string[] = []): [string, Command][] {
    return command.commands.flatMap((sub) => {
      const subPath = [...path, sub.name()];
      return [[subPath.join(' '), sub] as [string, Command], ...commands(sub, subPath)];
    });
  }

  /** What `townhall <path> --help` prints. */
  function help(command: Command): string {
    let text = '';
    command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
    command.outputHelp();
    return text;
  }

  it('has the commands the operations guide lists', () => {
    expect(commands(root).map(([path]) => path)).toEqual(
      expect.arrayContaining([
        'operators create',
        'operators list',
        'operators revoke',
        'tenants create',
        'tenants list',
        'tenants show',
        'tenants suspend',
        'tenants resume',
        'tenants retry',
        'tenants delete',
        'migrate',
        'worker',
        'regulators create',
        'regulators list',
        'regulators revoke',
        'audit verify',
        'audit verify-consistency',
        'audit rotate-key',
        'audit checkpoint',
        'audit subjects find',
        'audit subjects erase',
      ]),
    );
  });

  it('gives every command --help with examples of itself', () => {
    const found = commands(root);
    expect(found.length).toBeGreaterThan(20);
    for (const [path, command] of found) {
      const text = help(command);
      expect({ path, examples: text.includes('\nExamples:\n') }).toEqual({ path, examples: true });
      expect({ path, example: text.includes(`$ townhall ${path}`) }).toEqual({ path, example: true });
    }
  });

  describe('option values, refused as usage errors before anything runs', () => {
    it('tenants list --status: one of the states, as spelled', () => {
      const list = cli.get(TenantsListCommand);
      expect(list.status('suspended')).toBe('suspended');
      for (const bad of ['Suspended', 'paused', ''])
        expect(() => list.status(bad)).toThrow(InvalidOptionValue);
    });

    it('tenants list --limit: 1 to 500; --cursor: a tenant id', () => {
      const list = cli.get(TenantsListCommand);
      expect([list.limit('1'), list.limit('500')]).toEqual([1, 500]);
      for (const bad of ['0', '501', '1e2', ' 5']) expect(() => list.limit(bad)).toThrow(InvalidOptionValue);
      expect(list.cursor('7380412938240000001')).toBe('7380412938240000001');
      expect(() => list.cursor('bmi')).toThrow(InvalidOptionValue);
    });

    it('tenants delete --grace-seconds: 0 to 90 days (the use case decides what 0 needs)', () => {
      const del = cli.get(TenantsDeleteCommand);
      expect([del.graceSeconds('0'), del.graceSeconds(String(MAX_DELETION_GRACE_SECONDS))]).toEqual([
        0,
        MAX_DELETION_GRACE_SECONDS,
      ]);
      for (const bad of [String(MAX_DELETION_GRACE_SECONDS + 1), '-1', '03600', '1h']) {
        expect(() => del.graceSeconds(bad)).toThrow(InvalidOptionValue);
      }
    });

    it('migrate --concurrency: 1 to 64; --lock-timeout-ms: 1 to 600000', () => {
      const migrate = cli.get(MigrateCommand);
      expect([migrate.concurrency('1'), migrate.concurrency('64')]).toEqual([1, 64]);
      expect(() => migrate.concurrency('0')).toThrow(InvalidOptionValue);
      expect(() => migrate.concurrency('65')).toThrow(InvalidOptionValue);
      expect(migrate.lockTimeoutMs('600000')).toBe(600_000);
      expect(() => migrate.lockTimeoutMs('600001')).toThrow(InvalidOptionValue);
    });
  });
});
