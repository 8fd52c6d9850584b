import { Help, Option, SubCommand } from 'nest-commander';
import { describeRegulator, RegulatorDescription, RegulatorTokens } from '@townhall/auth';
import { helpText, printJson, printLine } from '../cli-output';
import { PlatformCommand } from './platform-command';
import { printRegulatorTable } from './regulators-view';

/** Regulators are issued one per authority and case: dozens, not thousands, so the list is complete. */
const PAGE = 200;

@SubCommand({
  name: 'list',
  description: 'list regulators, newest first: scope, status, expiry, token hint (tokens are never stored)',
})
export class RegulatorsListCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the regulators as a JSON array' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText([
      'townhall regulators list',
      'townhall regulators list --json | jq -r \'.[] | select(.status == "active") | .id\'',
    ]);
  }

  async run(_params: string[], options: { json?: boolean } = {}): Promise<void> {
    const tokens = (await this.runtime.open()).get(RegulatorTokens);
    const regulators: RegulatorDescription[] = [];
    let cursor: string | undefined;
    do {
      const page = await tokens.list({ limit: PAGE, cursor });
      regulators.push(...page.items.map(describeRegulator));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    if (options.json) printJson(regulators);
    else if (regulators.length === 0) printLine('No regulators.');
    else printRegulatorTable(regulators);
  }
}
