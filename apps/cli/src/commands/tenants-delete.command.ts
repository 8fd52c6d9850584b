import { Help, Option, SubCommand } from 'nest-commander';
import {
  DEFAULT_DELETION_GRACE_SECONDS,
  DeleteTenantCommand,
  MAX_DELETION_GRACE_SECONDS,
  MIN_DELETION_GRACE_SECONDS,
  TenantLifecycle,
} from '@townhall/provisioning';
import type { TenantEntity } from '@townhall/tenancy';
import { helpText, positiveIntegerOption } from '../cli-output';
import { TENANT_ARGUMENT, TenantCommandOptions, TenantTransitionCommand } from './tenant-command';

interface Options extends TenantCommandOptions {
  graceSeconds?: number;
  purgeImmediately?: boolean;
}

@SubCommand({
  name: 'delete',
  ...TENANT_ARGUMENT,
  description: 'delete a tenant: its instance stops at once, its data is dropped after the grace period',
})
export class TenantsDeleteCommand extends TenantTransitionCommand<Options> {
  @Option({
    flags: '--grace-seconds <n>',
    description: `seconds before the data is dropped, at least ${MIN_DELETION_GRACE_SECONDS}; \`tenants resume\` cancels until then (default ${DEFAULT_DELETION_GRACE_SECONDS}, 7 days)`,
  })
  graceSeconds(value: string): number {
    return positiveIntegerOption(value, MAX_DELETION_GRACE_SECONDS, 0);
  }

  @Option({
    flags: '--purge-immediately',
    description: 'drop the tenant’s data now, with no grace period in which it could be cancelled',
  })
  purgeImmediately(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText([
      'townhall tenants delete bmi',
      'townhall tenants delete bmi --grace-seconds 86400',
      'townhall tenants delete 112233445566778899 --purge-immediately',
    ]);
  }

  override async run(params: string[], options: Options = {}): Promise<void> {
    // Checked before the platform is opened: a refused purge touches nothing.
    deletion(options);
    await super.run(params, options);
  }

  protected transition(
    lifecycle: TenantLifecycle,
    tenantId: string,
    options: Options,
  ): Promise<TenantEntity> {
    return lifecycle.delete(tenantId, deletion(options));
  }

  protected outcome(deleting: TenantEntity): string {
    return `is being deleted; its data is dropped after ${deleting.deleteAfter?.toISOString() ?? 'now'}`;
  }
}

function deletion(options: Options): DeleteTenantCommand {
  return new DeleteTenantCommand({
    graceSeconds: options.graceSeconds,
    purgeImmediately: options.purgeImmediately,
  });
}
