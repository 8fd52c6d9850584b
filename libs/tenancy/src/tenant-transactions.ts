import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isTenantSchemaName } from './schema-name';
import { TenantContext, TenantRef } from './tenant-context';

/**
 * The one way to touch a tenant's tables: a transaction on the shared pool that begins with
 * `SET LOCAL search_path`, so the setting ends with the transaction and a pooled connection (or a
 * PgBouncer in transaction mode) never carries one tenant's path into another's work.
 */
@Injectable()
export class TenantTransactions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in the current tenant's schema; rejects (never throws synchronously, so a caller's
   * `.catch` sees it) when there is no tenant context, before touching the database.
   */
  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.runIn(TenantContext.current(), work);
  }

  /** Runs `work` in the given tenant's schema, and makes that tenant the context for its duration. */
  runIn<T>(tenant: TenantRef, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return runInTenantSchema(this.dataSource, tenant, work);
  }
}

export async function runInTenantSchema<T>(
  dataSource: DataSource,
  tenant: TenantRef,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (!isTenantSchemaName(tenant.schema)) throw new Error(`Refusing unsafe schema name: ${tenant.schema}`);
  return TenantContext.run(tenant, () =>
    dataSource.transaction(async (manager) => {
      await enterTenantSchema(manager, tenant);
      return work(manager);
    }),
  );
}

/**
 * Points a transaction someone else opened (an audited change, whose audit entry must commit with the
 * tenant's rows) at the tenant's schema, for the rest of that transaction only.
 */
export async function enterTenantSchema(manager: EntityManager, tenant: TenantRef): Promise<void> {
  if (!isTenantSchemaName(tenant.schema)) throw new Error(`Refusing unsafe schema name: ${tenant.schema}`);
  if (!manager.queryRunner?.isTransactionActive) throw new Error('enterTenantSchema needs a transaction');
  await manager.query(`SET LOCAL search_path TO ${tenant.schema}`);
}
