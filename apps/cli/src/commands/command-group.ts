import { CommandRunner } from 'nest-commander';
import { CliUsageError } from '../cli-output';

/** A command that only groups subcommands (`tenants`, `operators`): alone it shows its help. */
export abstract class CommandGroup extends CommandRunner {
  async run(params: string[]): Promise<void> {
    const name = this.command.name();
    if (params.length > 0) {
      const known = this.command.commands.map((c) => c.name()).join(', ');
      throw new CliUsageError(
        `unknown command '${name} ${params[0]}' (${name} commands: ${known}); see 'townhall ${name} --help'`,
      );
    }
    this.command.help({ error: true });
  }
}
