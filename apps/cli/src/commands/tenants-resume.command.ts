import { Help, Option, SubCommand } from 'nest-commander';
import { CommandRunner } from 'nest-commander';
import { TenantLifecycle } from '@townhall/provisioning';
import { PlatformRuntime } from '../platform-runtime';
import { findTenant, printTransition } from '../tenant-view';

@SubCommand({
  name: 'resume',
  arguments: '<tenant>',
  argsDescription: { tenant: 'the tenant’s id, slug or domain' },
  description: 'lift a suspension, or cancel a deletion that is still in its grace period',
})
export class TenantsResumeCommand extends CommandRunner {
  constructor(private readonly runtime: PlatformRuntime) {
    super();
  }

  @Option({ flags: '--json', description: 'print the tenant as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return ['', 'Examples:', '  $ townhall tenants resume bmi', ''].join('\n');
  }

  async run([reference]: string[], options: { json?: boolean } = {}): Promise<void> {
    const context = await this.runtime.open();
    const tenant = await findTenant(context, reference);
    const resumed = await context.get(TenantLifecycle).resume(tenant.id);
    printTransition(resumed, options.json, `is ${resumed.status} again`);
  }
}
