import { Inject, Injectable } from '@nestjs/common';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { countLocalUsage } from '@townhall/social';
import { TenancyError, TenantContext, TenantRegistry, TenantTransactions } from '@townhall/tenancy';
import { InstanceFacts, instanceV1, InstanceV1, instanceV2, InstanceV2 } from './mastodon-instance';

/** Describes the instance of the tenant the request was resolved to. Public: no caller to authorise. */
@Injectable()
export class InstanceService {
  constructor(
    private readonly registry: TenantRegistry,
    private readonly transactions: TenantTransactions,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  async describeV2(): Promise<InstanceV2> {
    return instanceV2(await this.facts(), this.config);
  }

  async describeV1(): Promise<InstanceV1> {
    return instanceV1(await this.facts(), this.config);
  }

  private async facts(): Promise<InstanceFacts> {
    const current = TenantContext.current();
    const tenant = await this.registry.findById(current.id);
    if (!tenant) throw new TenancyError('tenant_not_found', 'This instance no longer exists.');
    const usage = await this.transactions.run((manager) => countLocalUsage(manager));
    return {
      domain: tenant.domains?.find((d) => d.isPrimary)?.domain ?? current.domain,
      title: tenant.displayName,
      description: `The official Mastodon-compatible presence of ${tenant.displayName}.`,
      // The owner account's public profile will take over as contact once accounts are served.
      contactEmail: tenant.adminEmail,
      usage,
    };
  }
}
