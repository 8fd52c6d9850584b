import { Help, Option, SubCommand } from 'nest-commander';
import { CommandRunner } from 'nest-commander';
import { TenantLifecycle } from '@townhall/provisioning';
import { PlatformRuntime } from '../platform-runtime';
import { findTenant, printTransition } from '../tenant-view';

@SubCommand({
  name: 'retry',
  arguments: '<tenant>',
  argsDescription: { tenant: 'the tenant’s id, slug or domain' },
  description: 'provision a failed tenant again, resuming after its last completed step',
})
export class TenantsRetryCommand extends CommandRunner {
  constructor(private readonly runtime: PlatformRuntime) {
    super();
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
      '  $ townhall tenants list --status failed',
      '  $ townhall tenants retry bmi',
      '',
    ].join('\n');
  }

  async run([reference]: string[], options: { json?: boolean } = {}): Promise<void> {
    const context = await this.runtime.open();
    const tenant = await findTenant(context, reference);
    const retried = await context.get(TenantLifecycle).retry(tenant.id);
    printTransition(retried, options.json, 'is queued for provisioning again');
  }
}
