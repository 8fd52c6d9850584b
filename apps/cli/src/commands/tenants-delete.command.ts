import { Help, Option, SubCommand } from 'nest-commander';
import {
  DEFAULT_DELETION_GRACE_SECONDS,
  MAX_DELETION_GRACE_SECONDS,
  TenantLifecycle,
} from '@townhall/provisioning';
import type { TenantEntity } from '@townhall/tenancy';
import { helpText, positiveIntegerOption } from '../cli-output';
import { TENANT_ARGUMENT, TenantCommandOptions, TenantTransitionCommand } from './tenant-command';

interface Options extends TenantCommandOptions {
  graceSeconds?: number;
}

@SubCommand({
  name: 'delete',
  ...TENANT_ARGUMENT,
  description: 'delete a tenant: its instance stops at once, its data is dropped after the grace period',
})
export class TenantsDeleteCommand extends TenantTransitionCommand<Options> {
  @Option({
    flags: '--grace-seconds <n>',
    description: `seconds before the data is dropped; \`tenants resume\` cancels until then (default ${DEFAULT_DELETION_GRACE_SECONDS}, 7 days)`,
  })
  graceSeconds(value: string): number {
    return positiveIntegerOption(value, MAX_DELETION_GRACE_SECONDS, 0);
  }

  @Help('after')
  examples(): string {
    return helpText([
      'townhall tenants delete bmi',
      'townhall tenants delete 112233445566778899 --grace-seconds 0',
    ]);
  }

  protected transition(
    lifecycle: TenantLifecycle,
    tenantId: string,
    options: Options,
  ): Promise<TenantEntity> {
    return lifecycle.delete(tenantId, options.graceSeconds ?? DEFAULT_DELETION_GRACE_SECONDS);
  }

  protected outcome(deleting: TenantEntity): string {
    return `is being deleted; its data is dropped after ${deleting.deleteAfter?.toISOString() ?? 'now'}`;
  }
}
