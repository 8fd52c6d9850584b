import { Help, Option, SubCommand } from 'nest-commander';
import { CommandRunner } from 'nest-commander';
import {
  DEFAULT_DELETION_GRACE_SECONDS,
  MAX_DELETION_GRACE_SECONDS,
  TenantLifecycle,
} from '@townhall/provisioning';
import { positiveIntegerOption } from '../cli-output';
import { PlatformRuntime } from '../platform-runtime';
import { findTenant, printTransition } from '../tenant-view';

interface Options {
  graceSeconds?: number;
  json?: boolean;
}

@SubCommand({
  name: 'delete',
  arguments: '<tenant>',
  argsDescription: { tenant: 'the tenant’s id, slug or domain' },
  description: 'delete a tenant: its instance stops at once, its data is dropped after the grace period',
})
export class TenantsDeleteCommand extends CommandRunner {
  constructor(private readonly runtime: PlatformRuntime) {
    super();
  }

  @Option({
    flags: '--grace-seconds <n>',
    description: `seconds before the data is dropped; \`tenants resume\` cancels until then (default ${DEFAULT_DELETION_GRACE_SECONDS}, 7 days)`,
  })
  graceSeconds(value: string): number {
    return positiveIntegerOption(value, MAX_DELETION_GRACE_SECONDS, 0);
  }

  @Option({ flags: '--json', description: 'print the tenant as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return [
      '',
      'Examples:',
      '  $ townhall tenants delete bmi',
      '  $ townhall tenants delete 112233445566778899 --grace-seconds 0',
      '',
    ].join('\n');
  }

  async run([reference]: string[], options: Options = {}): Promise<void> {
    const context = await this.runtime.open();
    const tenant = await findTenant(context, reference);
    const deleting = await context
      .get(TenantLifecycle)
      .delete(tenant.id, options.graceSeconds ?? DEFAULT_DELETION_GRACE_SECONDS);
    printTransition(
      deleting,
      options.json,
      `is being deleted; its data is dropped after ${deleting.deleteAfter?.toISOString() ?? 'now'}`,
    );
  }
}
