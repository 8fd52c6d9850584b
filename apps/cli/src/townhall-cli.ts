import type { Command } from 'commander';
import { CommandFactory, CommandRunnerService, InjectCommander } from 'nest-commander';
import { Injectable, Module } from '@nestjs/common';
import { visibleLines } from '@townhall/core';
import { helpText, reportError } from './cli-output';
import { CliModule } from './cli.module';

/**
 * The `townhall` command line as a function: builds the command tree, runs the command `argv` names
 * (`[node, script, …arguments]`, as `process.argv`), closes the platform the command opened, and returns
 * the exit status — 0 on success, 1 when the operation failed, 2 for a wrong command line or
 * configuration. Configuration comes from `process.env`; output goes to `process.stdout` and
 * `process.stderr`. `main.ts` runs it for the process; tests run it in theirs.
 */
export async function runTownhall(argv: string[]): Promise<number> {
  let exitCode = 0;
  const cli = await CommandFactory.createWithoutRunning(TownhallCli, {
    logger: false,
    serviceErrorHandler: (err: Error) => {
      exitCode = reportError(err);
    },
  });
  try {
    configure(cli.get(Program).root);
    await cli.get(CommandRunnerService).run(argv);
  } finally {
    // Closes the platform the command opened: pools, Bull queues and Redis connections.
    await cli.close().catch((err: unknown) => {
      exitCode = exitCode || reportError(err);
    });
  }
  return exitCode;
}

@Injectable()
class Program {
  constructor(@InjectCommander() readonly root: Command) {}
}

@Module({ imports: [CliModule], providers: [Program] })
class TownhallCli {}

const ROOT_HELP = helpText(
  [
    'townhall operators create alice',
    'townhall tenants create --slug bmi --domain social.bmi.example --display-name "Ministry" --admin-email press@bmi.example --wait',
    'townhall tenants list --json',
    'townhall migrate',
    'townhall worker',
    'townhall secret-key rotate --new-key-file new.key',
  ],
  [
    'Configuration comes from the environment (DATABASE_URL, REDIS_URL, TOWNHALL_SECRET_KEY, …), as for the',
    'servers. Every command that touches the platform first applies pending platform migrations. Without',
    'DATABASE_URL, and with no PostgreSQL at the default address, commands use the embedded PostgreSQL',
    'under TOWNHALL_DATA_DIR (default var/), as `npm start` does.',
  ],
);

function configure(root: Command): void {
  root
    .name('townhall')
    .description(
      'Townhall platform administration: operators, tenants, migrations, workers, the audit log and the secret key',
    );
  root.addHelpText('after', ROOT_HELP);
  const apply = (command: Command, path: string): void => {
    // Commander would call process.exit itself; we want to close the platform first and choose the code.
    command.exitOverride();
    command.showSuggestionAfterError(true);
    command.showHelpAfterError(`(see '${path} --help')`);
    // Commander quotes the offending argument: shown visibly, like everything else the CLI prints.
    command.configureOutput({ outputError: (message, write) => write(visibleLines(message)) });
    for (const sub of command.commands) apply(sub, `${path} ${sub.name()}`);
  };
  apply(root, 'townhall');
}
