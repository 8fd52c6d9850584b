import { Help, Option, SubCommand } from 'nest-commander';
import type { TenantLifecycle } from '@townhall/provisioning';
import type { TenantEntity } from '@townhall/tenancy';
import { helpText, InvalidOptionValue } from '../cli-output';
import { TENANT_ARGUMENT, TenantCommandOptions, TenantTransitionCommand } from './tenant-command';

interface Options extends TenantCommandOptions {
  reason?: string;
}

@SubCommand({
  name: 'suspend',
  ...TENANT_ARGUMENT,
  description: 'suspend an active tenant: its instance answers 503 until resumed; nothing is deleted',
})
export class TenantsSuspendCommand extends TenantTransitionCommand<Options> {
  @Option({
    flags: '--reason <text>',
    description:
      'why, kept on the tenant and encrypted beside the audit log (the entry holds only its length); avoid naming people (up to 500 characters)',
  })
  reason(value: string): string {
    if (value.trim().length === 0 || value.length > 500)
      throw new InvalidOptionValue('It must be 1 to 500 characters.');
    return value.trim();
  }

  @Help('after')
  examples(): string {
    return helpText(['townhall tenants suspend bmi --reason "unpaid invoice 2024-113"']);
  }

  protected transition(
    lifecycle: TenantLifecycle,
    tenantId: string,
    options: Options,
  ): Promise<TenantEntity> {
    return lifecycle.suspend(tenantId, options.reason);
  }

  protected outcome(): string {
    return 'is suspended';
  }
}
