import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PlatformEvents, TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { canonicalHost } from './host';
import type { TenantStatus } from './tenant.entity';
import type { TenantRef } from './tenant-context';

/** What serving a request needs to know about the tenant at a host, in one row. */
export interface TenantAtHost {
  ref: TenantRef;
  displayName: string;
  primaryDomain: string;
}

interface Entry {
  value: TenantAtHost | null;
  loadedAt: number;
}

/** The channel on which every process hears that a tenant changed (status, domains, settings). */
export const TENANT_CHANGES_CHANNEL = 'tenants:changed';

/** Distinct hosts kept; beyond this the oldest are forgotten (Map order is insertion order). */
const MAX_ENTRIES = 10_000;

/**
 * Host → tenant, as every request needs it, without a database round trip per request.
 *
 * Each process keeps what it looked up, for at most TOWNHALL_TENANT_CACHE_MS, and forgets all of it the
 * moment any process announces a tenant change (`TenantChanges.announce`, after the change commits) on
 * Redis pub/sub. Three rules keep a suspension from being delayed:
 * - the cache is used only while this process is subscribed; when the subscription drops, every lookup
 *   goes to the database until it is back, and the cache starts empty again (announcements may have been
 *   missed meanwhile);
 * - a lookup that was in flight when an announcement arrived is not cached (generation check), so an
 *   answer read before the change cannot outlive it;
 * - entries expire regardless, which bounds staleness even if an announcement is lost (a process that
 *   dies between its commit and its announcement).
 */
@Injectable()
export class TenantDirectory {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, { generation: number; value: Promise<TenantAtHost | null> }>();
  private generation = 0;
  private listening: Promise<void> | undefined;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: PlatformEvents,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** Starts listening for announcements; until subscribed, lookups bypass the cache. */
  listen(): Promise<void> {
    if (this.config.tenantHttp.tenantCacheMs === 0) return Promise.resolve();
    this.listening ??= this.events.listen(
      TENANT_CHANGES_CHANNEL,
      () => this.forgetAll(),
      () => this.forgetAll(),
    );
    return this.listening;
  }

  /**
   * The tenant at a Host header's domain, or null for a host no tenant has.
   *
   * Under load an entry's expiry must not send every request in flight to the database at once: they
   * would queue on the pool, and each answer behind the event loop's other work, for as long as a second
   * (measured with the public-pages bench). So concurrent lookups of one domain share one query, and an
   * entry past half its lifetime is read again in the background by the first request that sees it
   * while it is still served — within its lifetime, so a missed announcement is still bounded by it.
   */
  async atHost(rawHost: string | undefined): Promise<TenantAtHost | null> {
    const domain = canonicalHost(rawHost);
    if (domain === undefined) return null;
    const now = Date.now();
    const cached = this.events.subscribed && this.listening !== undefined;
    const hit = this.entries.get(domain);
    const lifetime = this.config.tenantHttp.tenantCacheMs;
    if (hit && cached && now - hit.loadedAt < lifetime) {
      if (now - hit.loadedAt >= lifetime / 2) this.lookUp(domain, cached).catch(() => undefined);
      return hit.value;
    }
    return this.lookUp(domain, cached);
  }

  /** One query per domain at a time; its answer is kept unless an announcement came meanwhile. */
  private lookUp(domain: string, cached: boolean): Promise<TenantAtHost | null> {
    const generation = this.generation;
    const pending = this.loading.get(domain);
    if (pending && pending.generation === generation) return pending.value;
    const startedAt = Date.now();
    const value = this.load(domain).then((found) => {
      if (cached && this.events.subscribed && generation === this.generation) {
        if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(domain, { value: found, loadedAt: startedAt });
      }
      return found;
    });
    const entry = { generation, value };
    this.loading.set(domain, entry);
    const done = () => {
      if (this.loading.get(domain) === entry) this.loading.delete(domain);
    };
    value.then(done, done);
    return value;
  }

  /** Drops everything this process remembers. */
  forgetAll(): void {
    this.generation++;
    this.entries.clear();
  }

  private async load(domain: string): Promise<TenantAtHost | null> {
    const rows = (await this.dataSource.query(
      `SELECT t.id::text AS id, t.schema_name, t.status, t.display_name,
              coalesce((SELECT p.domain FROM platform.tenant_domains p
                         WHERE p.tenant_id = t.id AND p.is_primary LIMIT 1), d.domain) AS primary_domain
         FROM platform.tenant_domains d JOIN platform.tenants t ON t.id = d.tenant_id
        WHERE d.domain = $1`,
      [domain],
    )) as {
      id: string;
      schema_name: string;
      status: TenantStatus;
      display_name: string;
      primary_domain: string;
    }[];
    const [row] = rows;
    if (!row) return null;
    return {
      ref: { id: row.id, schema: row.schema_name, domain, status: row.status },
      displayName: row.display_name,
      primaryDomain: row.primary_domain,
    };
  }
}

/**
 * Announces that a tenant changed, after the change committed, so every process's directory forgets
 * what it knew. A failed announcement is logged, not thrown: the change is committed, and the
 * directories' expiry bounds how long it can go unseen.
 */
@Injectable()
export class TenantChanges {
  private readonly logger = new Logger(TenantChanges.name);

  constructor(private readonly events: PlatformEvents) {}

  async announce(tenantId: string): Promise<void> {
    try {
      await this.events.announce(TENANT_CHANGES_CHANNEL, tenantId);
    } catch (err) {
      this.logger.warn(
        { err, tenantId },
        'Could not announce a tenant change; other processes see it on expiry',
      );
    }
  }
}
