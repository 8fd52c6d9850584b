import { Help, Option, SubCommand } from 'nest-commander';
import { RegulatorTokens } from '@townhall/auth';
import { helpText } from '../cli-output';
import { PlatformCommand } from './platform-command';
import { printRegulator } from './regulators-view';

@SubCommand({
  name: 'revoke',
  arguments: '<id>',
  argsDescription: { id: 'the regulator whose token stops working (see townhall regulators list)' },
  description: 'revoke a regulator’s token at once',
})
export class RegulatorsRevokeCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the regulator as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(['townhall regulators revoke 7380412938240000101']);
  }

  async run([id]: string[], options: { json?: boolean } = {}): Promise<void> {
    const regulator = await this.runtime.act((context) => context.get(RegulatorTokens).revoke(id));
    printRegulator(regulator, options.json);
  }
}
