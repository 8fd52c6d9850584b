import { Help, Option, SubCommand } from 'nest-commander';
import { isId } from '@townhall/persistence';
import { TENANT_STATUSES, TenantRegistry, TenantStatus } from '@townhall/tenancy';
import {
  helpText,
  InvalidOptionValue,
  notice,
  positiveIntegerOption,
  printJson,
  printLine,
} from '../cli-output';
import { printTenantTable, tenantView } from '../tenant-view';
import { PlatformCommand } from './platform-command';

interface Options {
  status?: TenantStatus;
  limit?: number;
  cursor?: string;
  json?: boolean;
}

@SubCommand({ name: 'list', description: 'list tenants, newest first' })
export class TenantsListCommand extends PlatformCommand {
  @Option({
    flags: '--status <status>',
    description: 'only tenants in this state',
    choices: [...TENANT_STATUSES],
  })
  status(value: string): TenantStatus {
    if (!(TENANT_STATUSES as readonly string[]).includes(value)) {
      throw new InvalidOptionValue(`It must be one of ${TENANT_STATUSES.join(', ')}.`);
    }
    return value as TenantStatus;
  }

  @Option({ flags: '--limit <n>', description: 'at most this many tenants (1–500, default 50)' })
  limit(value: string): number {
    return positiveIntegerOption(value, 500);
  }

  @Option({ flags: '--cursor <id>', description: 'continue after this tenant id (printed as nextCursor)' })
  cursor(value: string): string {
    if (!isId(value)) throw new InvalidOptionValue('It must be a tenant id.');
    return value;
  }

  @Option({ flags: '--json', description: 'print {"tenants": [...], "nextCursor": ...} as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText([
      'townhall tenants list',
      'townhall tenants list --status failed --limit 10',
      "townhall tenants list --json | jq -r '.tenants[].slug'",
    ]);
  }

  async run(_params: string[], options: Options = {}): Promise<void> {
    const context = await this.runtime.open();
    const page = await context
      .get(TenantRegistry)
      .list({ limit: options.limit ?? 50, cursor: options.cursor, status: options.status });
    const tenants = page.items.map(tenantView);
    if (options.json) {
      printJson({ tenants, nextCursor: page.nextCursor });
      return;
    }
    if (tenants.length === 0) printLine('No tenants.');
    else printTenantTable(tenants);
    if (page.nextCursor) notice(`more: townhall tenants list --cursor ${page.nextCursor}`);
  }
}
