import { Help, SubCommand } from 'nest-commander';
import { helpText } from '../cli-output';
import { findTenant, printTenant } from '../tenant-view';
import { TENANT_ARGUMENT, TenantCommand, TenantCommandOptions } from './tenant-command';

@SubCommand({
  name: 'show',
  ...TENANT_ARGUMENT,
  description: 'show one tenant: state, domains, schema, provisioning progress',
})
export class TenantsShowCommand extends TenantCommand {
  @Help('after')
  examples(): string {
    return helpText(['townhall tenants show bmi', 'townhall tenants show social.bmi.example --json']);
  }

  async run([reference]: string[], options: TenantCommandOptions = {}): Promise<void> {
    const context = await this.runtime.open();
    printTenant(await findTenant(context, reference), options.json);
  }
}
