import { Help, Option, SubCommand } from 'nest-commander';
import { OperatorTokens } from '@townhall/auth';
import { helpText, notice, printFields, printJson } from '../cli-output';
import { PlatformCommand } from './platform-command';

interface Options {
  json?: boolean;
}

@SubCommand({
  name: 'create',
  arguments: '<name>',
  argsDescription: { name: 'who the token is for: 1–64 letters, digits or . _ @ -' },
  description: 'create an operator and print its API token (shown this one time only)',
})
export class OperatorsCreateCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the operator and its token as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      ['townhall operators create alice', 'townhall operators create ci-deploy --json | jq -r .token'],
      ['Only a hash of the token is stored: keep the printed token in a password manager or secret store.'],
    );
  }

  async run([name]: string[], options: Options = {}): Promise<void> {
    const { operator, token } = await this.runtime.act((context) => context.get(OperatorTokens).create(name));
    if (options.json) {
      printJson({
        operator: {
          id: operator.id,
          name: operator.name,
          tokenId: operator.tokenId,
          createdAt: operator.createdAt.toISOString(),
        },
        token,
      });
    } else {
      printFields([
        ['operator', operator.name],
        ['id', operator.id],
        ['token id', operator.tokenId],
        ['token', token],
      ]);
    }
    notice('warning: this token is shown only once and cannot be recovered; store it now.');
  }
}
