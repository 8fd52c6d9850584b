import { Help, Option, SubCommand } from 'nest-commander';
import { CommandRunner } from 'nest-commander';
import { printJson } from '../cli-output';
import { PlatformRuntime } from '../platform-runtime';
import { findTenant, printTenant, tenantView } from '../tenant-view';

@SubCommand({
  name: 'show',
  arguments: '<tenant>',
  argsDescription: { tenant: 'the tenant’s id, slug or domain' },
  description: 'show one tenant: state, domains, schema, provisioning progress',
})
export class TenantsShowCommand extends CommandRunner {
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
      '  $ townhall tenants show bmi',
      '  $ townhall tenants show social.bmi.example --json',
      '',
    ].join('\n');
  }

  async run([reference]: string[], options: { json?: boolean } = {}): Promise<void> {
    const context = await this.runtime.open();
    const view = tenantView(await findTenant(context, reference));
    if (options.json) printJson(view);
    else printTenant(view);
  }
}
