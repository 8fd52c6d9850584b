import { Inject, Injectable } from '@nestjs/common';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { LocalUsageCache } from '@townhall/social';
import { TenancyError, TenantContext, TenantDirectory } from '@townhall/tenancy';
import { InstanceFacts, instanceV1, InstanceV1, instanceV2, InstanceV2 } from './mastodon-instance';

/** Describes the instance of the tenant the request was resolved to. Public: no caller to authorise. */
@Injectable()
export class InstanceService {
  constructor(
    private readonly directory: TenantDirectory,
    private readonly usage: LocalUsageCache,
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
    // The request was just resolved through the directory, so this is the same (cached) row.
    const tenant = await this.directory.atHost(current.domain);
    if (!tenant) throw new TenancyError('tenant_not_found', 'This instance no longer exists.');
    return {
      domain: tenant.primaryDomain,
      title: tenant.displayName,
      description: `The official Mastodon-compatible presence of ${tenant.displayName}.`,
      // The admin's address is personal data (docs/compliance.md): nothing is published until the
      // tenant chooses a role address of its own. Mastodon answers "" when none is set.
      contactEmail: '',
      usage: await this.usage.current(),
    };
  }
}
