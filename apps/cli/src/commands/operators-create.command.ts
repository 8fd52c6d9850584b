import { Help, Option, SubCommand } from 'nest-commander';
import { CommandRunner } from 'nest-commander';
import { OperatorTokens } from '@townhall/auth';
import { notice, printFields, printJson } from '../cli-output';
import { PlatformRuntime } from '../platform-runtime';

interface Options {
  json?: boolean;
}

@SubCommand({
  name: 'create',
  arguments: '<name>',
  argsDescription: { name: 'who the token is for: 1–64 letters, digits or . _ @ -' },
  description: 'create an operator and print its API token (shown this one time only)',
})
export class OperatorsCreateCommand extends CommandRunner {
  constructor(private readonly runtime: PlatformRuntime) {
    super();
  }

  @Option({ flags: '--json', description: 'print the operator and its token as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return [
      '',
      'Only a hash of the token is stored: keep the printed token in a password manager or secret store.',
      '',
      'Examples:',
      '  $ townhall operators create alice',
      '  $ townhall operators create ci-deploy --json | jq -r .token',
      '',
    ].join('\n');
  }

  async run([name]: string[], options: Options = {}): Promise<void> {
    const context = await this.runtime.open();
    const { operator, token } = await context.get(OperatorTokens).create(name);
    if (options.json) {
      printJson({
        operator: { id: operator.id, name: operator.name, createdAt: operator.createdAt.toISOString() },
        token,
      });
    } else {
      printFields([
        ['operator', operator.name],
        ['id', operator.id],
        ['token', token],
      ]);
    }
    notice('warning: this token is shown only once and cannot be recovered; store it now.');
  }
}
