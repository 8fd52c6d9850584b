import { Help, SubCommand } from 'nest-commander';
import type { TenantLifecycle } from '@townhall/provisioning';
import type { TenantEntity } from '@townhall/tenancy';
import { helpText } from '../cli-output';
import { TENANT_ARGUMENT, TenantTransitionCommand } from './tenant-command';

@SubCommand({
  name: 'resume',
  ...TENANT_ARGUMENT,
  description: 'lift a suspension, or cancel a deletion that is still in its grace period',
})
export class TenantsResumeCommand extends TenantTransitionCommand {
  @Help('after')
  examples(): string {
    return helpText(['townhall tenants resume bmi']);
  }

  protected transition(lifecycle: TenantLifecycle, tenantId: string): Promise<TenantEntity> {
    return lifecycle.resume(tenantId);
  }

  protected outcome(resumed: TenantEntity): string {
    return `is ${resumed.status} again`;
  }
}
