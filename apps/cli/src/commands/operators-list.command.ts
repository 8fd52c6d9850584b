import { Help, Option, SubCommand } from 'nest-commander';
import { OperatorTokens } from '@townhall/auth';
import { helpText, printJson, printTable } from '../cli-output';
import { PlatformCommand } from './platform-command';

@SubCommand({
  name: 'list',
  description:
    'list operators: token hint and id, created, last used, revoked (tokens themselves are never stored)',
})
export class OperatorsListCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the operators as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(['townhall operators list', 'townhall operators list --json']);
  }

  async run(_params: string[], options: { json?: boolean } = {}): Promise<void> {
    const context = await this.runtime.open();
    const operators = (await context.get(OperatorTokens).list()).map((o) => ({
      id: o.id,
      name: o.name,
      tokenHint: `…${o.tokenHint}`,
      tokenId: o.tokenId,
      createdAt: o.createdAt.toISOString(),
      lastUsedAt: o.lastUsedAt?.toISOString() ?? null,
      revokedAt: o.revokedAt?.toISOString() ?? null,
    }));
    if (options.json) printJson(operators);
    else
      printTable(
        ['name', 'token', 'token id', 'created', 'last used', 'revoked'],
        operators.map((o) => [
          o.name,
          o.tokenHint,
          o.tokenId,
          o.createdAt,
          o.lastUsedAt ?? '',
          o.revokedAt ?? '',
        ]),
      );
  }
}
