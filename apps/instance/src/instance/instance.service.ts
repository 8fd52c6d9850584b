import { Inject, Injectable } from '@nestjs/common';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { LocalUsage, LocalUsageCache, MediaProcessing } from '@townhall/social';
import { TenancyError, TenantContext, TenantDirectory } from '@townhall/tenancy';
import { InstanceFacts, instanceV1, instanceV2 } from './mastodon-instance';

/** What an instance says about itself, until tenants write their own description. */
export function instanceDescription(displayName: string): string {
  return `The official Mastodon-compatible presence of ${displayName}.`;
}

/** The instance documents of one tenant, serialised, and what they were built from. */
interface Rendered {
  title: string;
  domain: string;
  usage: LocalUsage;
  v1: string;
  v2: string;
}

/**
 * Describes the instance of the tenant the request was resolved to. Public: no caller to authorise.
 *
 * Every client fetches these documents when it starts, so they are kept serialised per tenant and
 * rebuilt only when what they are made of changes: the tenant's name or primary domain (from the tenant
 * directory) or its usage counts (counted at most every TOWNHALL_USAGE_CACHE_MS).
 */
@Injectable()
export class InstanceService {
  private readonly rendered = new Map<string, Rendered>();

  constructor(
    private readonly directory: TenantDirectory,
    private readonly usage: LocalUsageCache,
    private readonly media: MediaProcessing,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** The Mastodon Instance entity (v2), as JSON text. */
  async describeV2(): Promise<string> {
    return (await this.current()).v2;
  }

  /** The Mastodon V1::Instance entity, as JSON text. */
  async describeV1(): Promise<string> {
    return (await this.current()).v1;
  }

  private async current(): Promise<Rendered> {
    const ref = TenantContext.current();
    // The request was just resolved through the directory, so this is the same (cached) row.
    const tenant = await this.directory.atHost(ref.domain);
    if (!tenant) throw new TenancyError('tenant_not_found', 'This instance no longer exists.');
    const usage = await this.usage.current();
    const known = this.rendered.get(ref.id);
    if (
      known &&
      known.title === tenant.displayName &&
      known.domain === tenant.primaryDomain &&
      known.usage === usage
    ) {
      return known;
    }
    const facts: InstanceFacts = {
      domain: tenant.primaryDomain,
      title: tenant.displayName,
      description: instanceDescription(tenant.displayName),
      // The admin's address is personal data (docs/compliance.md): nothing is published until the
      // tenant chooses a role address of its own. Mastodon answers "" when none is set.
      contactEmail: '',
      usage,
      videoAndAudio: await this.media.videoAndAudio(),
    };
    const rendered: Rendered = {
      title: tenant.displayName,
      domain: tenant.primaryDomain,
      usage,
      v1: JSON.stringify(instanceV1(facts, this.config)),
      v2: JSON.stringify(instanceV2(facts, this.config)),
    };
    if (this.rendered.size >= 10_000) this.rendered.delete(this.rendered.keys().next().value!);
    this.rendered.set(ref.id, rendered);
    return rendered;
  }
}
