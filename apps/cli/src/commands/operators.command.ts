import { Command, Help } from 'nest-commander';
import { helpText } from '../cli-output';
import { CommandGroup } from './command-group';
import { OperatorsCreateCommand } from './operators-create.command';
import { OperatorsListCommand } from './operators-list.command';
import { OperatorsRevokeCommand } from './operators-revoke.command';

export const OPERATOR_SUBCOMMANDS = [OperatorsCreateCommand, OperatorsListCommand, OperatorsRevokeCommand];

@Command({
  name: 'operators',
  description: 'manage the operators who may use the platform API',
  subCommands: OPERATOR_SUBCOMMANDS,
})
export class OperatorsCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText([
      'townhall operators create alice',
      'townhall operators list',
      'townhall operators revoke alice',
    ]);
  }
}
