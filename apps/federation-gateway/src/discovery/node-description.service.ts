import { Inject, Injectable } from '@nestjs/common';
import {
  hostMetaJrd,
  HostMetaJrd,
  hostMetaXrd,
  nodeInfo21,
  NodeInfo21,
  nodeInfoDiscovery,
  NodeInfoDiscovery,
  TOWNHALL_SOFTWARE,
} from '@townhall/activitypub';
import { publicUrl, TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { LocalUsageCache } from '@townhall/social';
import { TenancyError, TenantContext, TenantDirectory } from '@townhall/tenancy';

/**
 * The discovery documents other servers read about the tenant the request was resolved to: NodeInfo
 * and host-meta. Links are built on the domain the request came to, which is where the caller looks.
 */
@Injectable()
export class NodeDescriptionService {
  constructor(
    private readonly directory: TenantDirectory,
    private readonly usage: LocalUsageCache,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  nodeInfoLinks(): NodeInfoDiscovery {
    return nodeInfoDiscovery(publicUrl(this.config, TenantContext.current().domain, '/nodeinfo/2.1'));
  }

  async nodeInfo(): Promise<NodeInfo21> {
    const current = TenantContext.current();
    const tenant = await this.directory.atHost(current.domain);
    if (!tenant) throw new TenancyError('tenant_not_found', 'This instance no longer exists.');
    const usage = await this.usage.current();
    return nodeInfo21({
      software: TOWNHALL_SOFTWARE,
      // Official accounts are onboarded by their organisation, never self-registered.
      openRegistrations: false,
      usage: {
        users: { total: usage.users, activeMonth: usage.activeMonth, activeHalfyear: usage.activeHalfyear },
        localPosts: usage.localPosts,
      },
      metadata: { nodeName: tenant.displayName },
    });
  }

  hostMetaXml(): string {
    return hostMetaXrd(this.webfingerEndpoint());
  }

  hostMetaJson(): HostMetaJrd {
    return hostMetaJrd(this.webfingerEndpoint());
  }

  private webfingerEndpoint(): string {
    return publicUrl(this.config, TenantContext.current().domain, '/.well-known/webfinger');
  }
}
