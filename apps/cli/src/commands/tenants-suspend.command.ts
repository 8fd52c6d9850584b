import { Help, Option, SubCommand } from 'nest-commander';
import { CommandRunner } from 'nest-commander';
import { TenantLifecycle } from '@townhall/provisioning';
import { InvalidOptionValue } from '../cli-output';
import { PlatformRuntime } from '../platform-runtime';
import { findTenant, printTransition } from '../tenant-view';

interface Options {
  reason?: string;
  json?: boolean;
}

@SubCommand({
  name: 'suspend',
  arguments: '<tenant>',
  argsDescription: { tenant: 'the tenant’s id, slug or domain' },
  description: 'suspend an active tenant: its instance answers 503 until resumed; nothing is deleted',
})
export class TenantsSuspendCommand extends CommandRunner {
  constructor(private readonly runtime: PlatformRuntime) {
    super();
  }

  @Option({ flags: '--reason <text>', description: 'why, recorded on the tenant (up to 500 characters)' })
  reason(value: string): string {
    if (value.trim().length === 0 || value.length > 500)
      throw new InvalidOptionValue('It must be 1 to 500 characters.');
    return value.trim();
  }

  @Option({ flags: '--json', description: 'print the tenant as JSON' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return ['', 'Examples:', '  $ townhall tenants suspend bmi --reason "unpaid invoice 2024-113"', ''].join(
      '\n',
    );
  }

  async run([reference]: string[], options: Options = {}): Promise<void> {
    const context = await this.runtime.open();
    const tenant = await findTenant(context, reference);
    const suspended = await context.get(TenantLifecycle).suspend(tenant.id, options.reason);
    printTransition(suspended, options.json, 'is suspended');
  }
}
