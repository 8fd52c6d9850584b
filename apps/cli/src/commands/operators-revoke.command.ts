import { Help, Option, SubCommand } from 'nest-commander';
import { OperatorTokens } from '@townhall/auth';
import { helpText, printFields, printJson } from '../cli-output';
import { PlatformCommand } from './platform-command';

@SubCommand({
  name: 'revoke',
  arguments: '<name>',
  argsDescription: { name: 'the operator whose token stops working' },
  description: 'revoke an operator’s API token at once (the name is never reused)',
})
export class OperatorsRevokeCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the operator as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(['townhall operators revoke alice']);
  }

  async run([name]: string[], options: { json?: boolean } = {}): Promise<void> {
    const operator = await this.runtime.act((context) => context.get(OperatorTokens).revoke(name));
    const revokedAt = operator.revokedAt?.toISOString() ?? null;
    if (options.json) printJson({ id: operator.id, name: operator.name, revokedAt });
    else
      printFields([
        ['operator', operator.name],
        ['revoked at', revokedAt ?? ''],
      ]);
  }
}
