import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isId } from '@townhall/persistence';
import { canonicalHost } from './host';
import { TenancyError } from './tenancy.errors';
import { TenantDomainEntity, TenantEntity, TenantStatus } from './tenant.entity';
import type { TenantRef } from './tenant-context';

export interface TenantPage {
  items: TenantEntity[];
  nextCursor: string | null;
}

/** Queries over the platform's tenant registry. Holds no rules: use cases decide, this stores. */
@Injectable()
export class TenantRegistry {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private repo(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager).getRepository(TenantEntity);
  }

  async findById(id: string, manager?: EntityManager): Promise<TenantEntity | null> {
    if (!isId(id)) return null;
    return this.repo(manager).findOne({ where: { id }, relations: { domains: true } });
  }

  /** What work for the tenant with this id runs with (its primary domain), or null when there is none. */
  async refById(id: string): Promise<TenantRef | null> {
    const tenant = await this.findById(id);
    if (!tenant) return null;
    const domains = tenant.domains ?? [];
    const domain = (domains.find((d) => d.isPrimary) ?? domains[0])?.domain ?? '';
    return tenantRef(tenant, domain);
  }

  /** Locks the tenant row for the rest of the caller's transaction. */
  async lockById(manager: EntityManager, id: string): Promise<TenantEntity | null> {
    if (!isId(id)) return null;
    return manager
      .getRepository(TenantEntity)
      .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  async findByHost(rawHost: string | undefined): Promise<{ tenant: TenantEntity; domain: string } | null> {
    const domain = canonicalHost(rawHost);
    if (!domain) return null;
    const row = await this.dataSource.manager.getRepository(TenantDomainEntity).findOne({
      where: { domain },
      relations: { tenant: true },
    });
    return row?.tenant ? { tenant: row.tenant, domain: row.domain } : null;
  }

  async primaryDomain(tenantId: string, manager?: EntityManager): Promise<string | null> {
    const row = await (manager ?? this.dataSource.manager)
      .getRepository(TenantDomainEntity)
      .findOne({ where: { tenantId, isPrimary: true } });
    return row?.domain ?? null;
  }

  /** Keyset pagination by id, newest first; `cursor` is the last id of the previous page. */
  async list(opts: { limit: number; cursor?: string; status?: TenantStatus }): Promise<TenantPage> {
    const qb = this.repo()
      .createQueryBuilder('t')
      .leftJoinAndSelect('t.domains', 'd')
      .orderBy('t.id', 'DESC')
      .take(opts.limit + 1);
    if (opts.cursor !== undefined) {
      if (!isId(opts.cursor))
        throw new TenancyError('invalid_cursor', 'The cursor is not one this API returned.');
      qb.andWhere('t.id < :cursor', { cursor: opts.cursor });
    }
    if (opts.status) qb.andWhere('t.status = :status', { status: opts.status });
    const rows = await qb.getMany();
    const items = rows.slice(0, opts.limit);
    return { items, nextCursor: rows.length > opts.limit ? items[items.length - 1].id : null };
  }
}

export function tenantRef(tenant: TenantEntity, domain: string): TenantRef {
  return { id: tenant.id, schema: tenant.schemaName, domain, status: tenant.status };
}
