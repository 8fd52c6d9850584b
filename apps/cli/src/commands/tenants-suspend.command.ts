import { Help, Option, SubCommand } from 'nest-commander';
import { checkText } from '@townhall/core';
import { SUSPENSION_REASON_RULE, type TenantLifecycle } from '@townhall/provisioning';
import type { TenantEntity } from '@townhall/tenancy';
import { checkedOption, helpText } from '../cli-output';
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
    description: `why, kept on the tenant and encrypted beside the audit log (the entry holds only its length); avoid naming people (up to ${SUSPENSION_REASON_RULE.maxLength} characters)`,
  })
  reason(value: string): string {
    return checkedOption(checkText(value, SUSPENSION_REASON_RULE)).text;
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
