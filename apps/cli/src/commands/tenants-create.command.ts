import { Help, Option, SubCommand } from 'nest-commander';
import { checkEmailAddress, checkText } from '@townhall/core';
import {
  checkTenantDomain,
  DISPLAY_NAME_RULE,
  PROVISIONING_STEPS,
  ProvisionTenantCommand,
  TenantLifecycle,
} from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';
import { checkedOption, CliError, helpText, notice, positiveIntegerOption, printLine } from '../cli-output';
import { printTenant } from '../tenant-view';
import { TenantCommand, TenantCommandOptions } from './tenant-command';

interface Options extends TenantCommandOptions {
  slug: string;
  domain: string;
  displayName: string;
  adminEmail: string;
  wait?: boolean;
  timeoutSeconds?: number;
}

const POLL_MS = 250;
/** After this long without a step, the likely cause is that no worker is running: say so. */
const NO_WORKER_HINT_MS = 15_000;

@SubCommand({
  name: 'create',
  description: 'register a new tenant; a worker then provisions its schema, instance actor and owner',
})
export class TenantsCreateCommand extends TenantCommand {
  @Option({
    flags: '--slug <slug>',
    description: 'short unique name: 3–40 of a-z, 0-9 and -',
    required: true,
  })
  slug(value: string): string {
    return value;
  }

  @Option({
    flags: '--domain <host>',
    description: 'the host name the instance is served at (no scheme, port or path)',
    required: true,
  })
  domain(value: string): string {
    return checkedOption(checkTenantDomain(value)).domain;
  }

  @Option({
    flags: '--display-name <name>',
    description: `the organisation’s name as people see it (1–${DISPLAY_NAME_RULE.maxLength} characters)`,
    required: true,
  })
  displayName(value: string): string {
    return checkedOption(checkText(value, DISPLAY_NAME_RULE)).text;
  }

  @Option({
    flags: '--admin-email <email>',
    description: 'email of the instance owner (the first admin)',
    required: true,
  })
  adminEmail(value: string): string {
    return checkedOption(checkEmailAddress(value)).address;
  }

  @Option({
    flags: '--wait',
    description: 'wait until the tenant is active (exit 0) or failed (exit 1), printing progress',
  })
  wait(): boolean {
    return true;
  }

  @Option({ flags: '--timeout-seconds <n>', description: 'how long --wait waits at most (default 600)' })
  timeoutSeconds(value: string): number {
    return positiveIntegerOption(value, 86_400);
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall tenants create --slug bmi --domain social.bmi.example --display-name "Federal Ministry" \\\n' +
          '--admin-email press@bmi.example --wait',
        'townhall tenants create --slug city-x --domain social.city-x.example --display-name "City X" \\\n' +
          '--admin-email web@city-x.example --json | jq -r .id',
      ],
      [
        'Provisioning runs in a worker (the control plane, or `townhall worker`); without --wait the command',
        'returns as soon as the tenant is registered.',
      ],
    );
  }

  async run(_params: string[], options: Options): Promise<void> {
    // Validated before anything is opened: a bad slug or domain writes nothing and needs no database.
    const command = new ProvisionTenantCommand({
      slug: options.slug,
      domain: options.domain,
      displayName: options.displayName,
      adminEmail: options.adminEmail,
    });
    const context = await this.runtime.open();
    let tenant = await this.runtime.act(() => context.get(TenantLifecycle).provision(command));
    if (options.wait) {
      notice(`Tenant ${tenant.slug} registered (id ${tenant.id}); waiting for a worker to provision it…`);
      tenant = await waitUntilSettled(
        context.get(TenantRegistry),
        tenant,
        (options.timeoutSeconds ?? 600) * 1000,
      );
    }
    printTenant(tenant, options.json);
    if (!options.json && !options.wait)
      printLine(`Provisioning is queued; follow it with: townhall tenants show ${tenant.slug}`);
    if (tenant.status === 'failed') {
      throw new CliError(
        `provisioning of ${tenant.slug} failed: ${tenant.failureReason ?? 'no reason recorded'}; after fixing the cause: townhall tenants retry ${tenant.id}`,
      );
    }
  }
}

async function waitUntilSettled(
  registry: TenantRegistry,
  created: TenantEntity,
  timeoutMs: number,
): Promise<TenantEntity> {
  const started = Date.now();
  // From the start: a worker may have finished steps before `provision` returned the new row.
  let lastStep: string | null = null;
  let lastChange = started;
  let hinted = false;
  for (;;) {
    const tenant = await registry.findById(created.id);
    if (!tenant) throw new CliError(`tenant ${created.slug} disappeared while waiting for it`);
    if (tenant.provisioningStep !== lastStep && tenant.provisioningStep !== null) {
      // Steps can finish between two polls: report each one that did, in order.
      const from = lastStep === null ? 0 : stepIndex(lastStep) + 1;
      for (let i = from; i <= stepIndex(tenant.provisioningStep); i++) {
        notice(`[${i + 1}/${PROVISIONING_STEPS.length}] ${tenant.slug}: ${PROVISIONING_STEPS[i]} done`);
      }
      lastStep = tenant.provisioningStep;
      lastChange = Date.now();
    }
    if (tenant.status !== 'provisioning') return tenant;
    if (!hinted && Date.now() - lastChange > NO_WORKER_HINT_MS) {
      hinted = true;
      notice('still waiting: is a worker running? (the control plane, or `townhall worker`)');
    }
    if (Date.now() - started > timeoutMs) {
      throw new CliError(
        `tenant ${tenant.slug} is still provisioning after ${Math.round(timeoutMs / 1000)} s (last step: ${lastStep ?? 'none'}); it goes on in the background`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function stepIndex(step: string): number {
  return PROVISIONING_STEPS.indexOf(step as (typeof PROVISIONING_STEPS)[number]);
}
