import { Command, Help } from 'nest-commander';
import { CommandGroup } from './command-group';
import { OperatorsCreateCommand } from './operators-create.command';

@Command({
  name: 'operators',
  description: 'manage the operators who may use the platform API',
  subCommands: [OperatorsCreateCommand],
})
export class OperatorsCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return '\nExamples:\n  $ townhall operators create alice\n';
  }
}
