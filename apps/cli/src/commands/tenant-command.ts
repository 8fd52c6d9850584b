import { Option } from 'nest-commander';
import { TenantLifecycle } from '@townhall/provisioning';
import type { TenantEntity } from '@townhall/tenancy';
import { findTenant, printTransition } from '../tenant-view';
import { PlatformCommand } from './platform-command';

/** The `<tenant>` argument of every command that acts on one existing tenant. */
export const TENANT_ARGUMENT = {
  arguments: '<tenant>',
  argsDescription: { tenant: 'the tenant’s id, slug or domain' },
};

export interface TenantCommandOptions {
  json?: boolean;
}

/**
 * A command whose result is one tenant: a person gets a summary, `--json` gets the tenant as JSON.
 * nest-commander finds `@Option` methods along the prototype chain, so `--json` is declared once here.
 */
export abstract class TenantCommand extends PlatformCommand {
  @Option({ flags: '--json', description: 'print the tenant as JSON' })
  json(): boolean {
    return true;
  }
}

/**
 * `tenants suspend|resume|retry|delete <tenant>`: find the tenant the operator named, apply one
 * lifecycle transition, then print the tenant or one sentence on what it is now.
 */
export abstract class TenantTransitionCommand<
  O extends TenantCommandOptions = TenantCommandOptions,
> extends TenantCommand {
  async run([reference]: string[], options: O = {} as O): Promise<void> {
    const changed = await this.runtime.act(async (context) => {
      const tenant = await findTenant(context, reference);
      return this.transition(context.get(TenantLifecycle), tenant.id, options);
    });
    printTransition(changed, options.json, this.outcome(changed));
  }

  protected abstract transition(
    lifecycle: TenantLifecycle,
    tenantId: string,
    options: O,
  ): Promise<TenantEntity>;

  /** Completes "Tenant <slug> (<id>) …" for a person. */
  protected abstract outcome(tenant: TenantEntity): string;
}
