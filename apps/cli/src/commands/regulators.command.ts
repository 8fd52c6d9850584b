import { Command, Help } from 'nest-commander';
import { helpText } from '../cli-output';
import { CommandGroup } from './command-group';
import { RegulatorsCreateCommand } from './regulators-create.command';
import { RegulatorsListCommand } from './regulators-list.command';
import { RegulatorsRevokeCommand } from './regulators-revoke.command';

export const REGULATOR_SUBCOMMANDS = [
  RegulatorsCreateCommand,
  RegulatorsListCommand,
  RegulatorsRevokeCommand,
];

@Command({
  name: 'regulators',
  description: 'manage the regulators who may export the audit log through the regulator API',
  subCommands: REGULATOR_SUBCOMMANDS,
})
export class RegulatorsCommand extends CommandGroup {
  @Help('after')
  examples(): string {
    return helpText([
      'townhall regulators create "Data Protection Authority" --tenant bmi --expires-at 2026-06-30',
      'townhall regulators list',
      'townhall regulators revoke 7380412938240000101',
    ]);
  }
}
