import { Help, SubCommand } from 'nest-commander';
import type { TenantLifecycle } from '@townhall/provisioning';
import type { TenantEntity } from '@townhall/tenancy';
import { helpText } from '../cli-output';
import { TENANT_ARGUMENT, TenantTransitionCommand } from './tenant-command';

@SubCommand({
  name: 'retry',
  ...TENANT_ARGUMENT,
  description: 'provision a failed tenant again, resuming after its last completed step',
})
export class TenantsRetryCommand extends TenantTransitionCommand {
  @Help('after')
  examples(): string {
    return helpText(['townhall tenants list --status failed', 'townhall tenants retry bmi']);
  }

  protected transition(lifecycle: TenantLifecycle, tenantId: string): Promise<TenantEntity> {
    return lifecycle.retry(tenantId);
  }

  protected outcome(): string {
    return 'is queued for provisioning again';
  }
}
