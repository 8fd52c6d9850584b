import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import {
  assertMigrationSetIsValid,
  sqlState,
  TENANT_MIGRATIONS,
  TenantMigration,
} from '@townhall/persistence';
import { isTenantSchemaName } from './schema-name';
import { TenancyError } from './tenancy.errors';
import { migrateTenantSchema } from './tenant-schema-migrator';

/**
 * Brings every tenant schema up to the latest tenant migration, a few schemas at a time.
 *
 * - One transaction per schema (`migrateTenantSchema`): a schema is either fully migrated and its
 *   version recorded in both `schema_migrations` and `platform.tenants.migration_version`, or untouched.
 *   A run that crashes is resumed by running again: only what is left is done.
 * - Each transaction has a `lock_timeout`, so a schema that another transaction holds (a long report, a
 *   stuck session) fails fast as "lock timeout: schema busy" instead of stalling the run; one failing
 *   schema is reported and never stops the others.
 * - One run at a time, guarded by a session advisory lock. A second run does not wait: it fails at once
 *   with `migration_run_in_progress`. Waiting would hide a stuck run behind a silent CLI, and a deploy
 *   step that starts while another is running is better told so and retried than queued.
 * - Which tenants: every tenant with a schema that is not being deleted. A tenant still provisioning is
 *   included only once its saga's migrations step has committed (its `migration_version` is above 0);
 *   before that, the saga migrates the schema itself.
 */
@Injectable()
export class TenantMigrationRunner {
  private readonly logger = new Logger(TenantMigrationRunner.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() @Inject(TOWNHALL_CONFIG) private readonly config?: TownhallConfig,
  ) {}

  async migrateAll(options: MigrateAllOptions = {}): Promise<TenantMigrationSummary> {
    const started = Date.now();
    const migrations = options.migrations ?? TENANT_MIGRATIONS;
    assertMigrationSetIsValid(migrations);
    const latestVersion = migrations.length ? migrations[migrations.length - 1].version : 0;
    const lockTimeoutMs = positiveInt(
      options.lockTimeoutMs ?? this.config?.migrations.lockTimeoutMs ?? 5000,
      'lockTimeoutMs',
    );
    const concurrency = this.effectiveConcurrency(
      options.concurrency ?? this.config?.migrations.concurrency ?? 4,
    );

    const runLock = this.dataSource.createQueryRunner();
    await runLock.connect();
    try {
      const [{ locked }] = (await runLock.query(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [
        RUN_LOCK,
      ])) as [{ locked: boolean }];
      if (!locked) {
        throw new TenancyError(
          'migration_run_in_progress',
          'Another process is migrating tenant schemas right now; run again once it has finished.',
        );
      }
      try {
        return await this.runLocked({
          migrations,
          latestVersion,
          lockTimeoutMs,
          concurrency,
          onProgress: options.onProgress,
          onMigrated: options.onMigrated,
          started,
        });
      } finally {
        await runLock.query(`SELECT pg_advisory_unlock(hashtext($1))`, [RUN_LOCK]).catch(() => undefined);
      }
    } finally {
      await runLock.release();
    }
  }

  private async runLocked(run: {
    migrations: readonly TenantMigration[];
    latestVersion: number;
    lockTimeoutMs: number;
    concurrency: number;
    onProgress?: (progress: TenantMigrationProgress) => void;
    onMigrated?: MigrateAllOptions['onMigrated'];
    started: number;
  }): Promise<TenantMigrationSummary> {
    const tenants = await this.tenantsToCheck();
    const summary: TenantMigrationSummary = {
      latestVersion: run.latestVersion,
      concurrency: run.concurrency,
      total: tenants.length,
      migrated: 0,
      upToDate: 0,
      skipped: 0,
      failed: [],
      durationMs: 0,
    };
    let done = 0;
    await forEachWithConcurrency(tenants, run.concurrency, async (tenant) => {
      const result = await this.migrateOne(tenant, run);
      if (result.outcome === 'migrated') summary.migrated++;
      else if (result.outcome === 'up_to_date') summary.upToDate++;
      else if (result.outcome === 'skipped') summary.skipped++;
      else
        summary.failed.push({
          tenantId: tenant.id,
          slug: tenant.slug,
          schema: tenant.schema,
          reason: result.reason ?? 'unknown',
        });
      done++;
      this.report(run.onProgress, {
        done,
        total: tenants.length,
        tenantId: tenant.id,
        slug: tenant.slug,
        schema: tenant.schema,
        ...result,
      });
    });
    summary.durationMs = Date.now() - run.started;
    this.logger.log(
      {
        total: summary.total,
        migrated: summary.migrated,
        upToDate: summary.upToDate,
        failed: summary.failed.length,
        durationMs: summary.durationMs,
      },
      'Tenant migration run finished',
    );
    return summary;
  }

  private async tenantsToCheck(): Promise<TenantToMigrate[]> {
    return (await this.dataSource.query(
      `SELECT t.id::text AS id, t.slug, t.schema_name AS schema, t.migration_version AS version
         FROM platform.tenants t
        WHERE ${ELIGIBLE_TENANT_SQL}
        ORDER BY t.id`,
    )) as TenantToMigrate[];
  }

  private async migrateOne(
    tenant: TenantToMigrate,
    run: {
      migrations: readonly TenantMigration[];
      latestVersion: number;
      lockTimeoutMs: number;
      onMigrated?: MigrateAllOptions['onMigrated'];
    },
  ): Promise<MigrationResult> {
    // The registry is kept in step with each schema's own table, so a tenant it says is current needs no transaction.
    if (tenant.version >= run.latestVersion)
      return { outcome: 'up_to_date', fromVersion: tenant.version, toVersion: tenant.version };
    if (!isTenantSchemaName(tenant.schema)) {
      return {
        outcome: 'failed',
        fromVersion: tenant.version,
        toVersion: tenant.version,
        reason: `unsafe schema name ${tenant.schema}`,
      };
    }
    try {
      return await this.dataSource.transaction(async (manager) => {
        await manager.query(`SET LOCAL lock_timeout = ${run.lockTimeoutMs}`);
        // Holding the registry row serialises with deletion (the dropper locks it before DROP SCHEMA) and
        // with the provisioning saga; the tenant may have changed since the list was read.
        if (!(await this.stillEligible(manager, tenant.id))) {
          return { outcome: 'skipped' as const, fromVersion: tenant.version, toVersion: tenant.version };
        }
        const result = await migrateTenantSchema(
          manager,
          { id: tenant.id, schema: tenant.schema },
          {
            lockTimeoutMs: run.lockTimeoutMs,
            migrations: run.migrations,
          },
        );
        if (result.applied.length && run.onMigrated) {
          await run.onMigrated(manager, {
            tenantId: tenant.id,
            schema: tenant.schema,
            fromVersion: result.from,
            toVersion: result.to,
          });
        }
        return {
          outcome: result.applied.length ? ('migrated' as const) : ('up_to_date' as const),
          fromVersion: result.from,
          toVersion: result.to,
        };
      });
    } catch (err) {
      const reason = migrationFailureReason(err, run.lockTimeoutMs);
      this.logger.warn(
        { tenantId: tenant.id, schema: tenant.schema, reason },
        'Tenant schema migration failed',
      );
      return { outcome: 'failed', fromVersion: tenant.version, toVersion: tenant.version, reason };
    }
  }

  private async stillEligible(manager: EntityManager, tenantId: string): Promise<boolean> {
    const rows = (await manager.query(
      `SELECT 1 FROM platform.tenants t WHERE t.id = $1 AND ${ELIGIBLE_TENANT_SQL} FOR NO KEY UPDATE OF t`,
      [tenantId],
    )) as unknown[];
    return rows.length === 1;
  }

  /** The advisory-lock session holds one pooled connection for the whole run; the schemas share the rest. */
  private effectiveConcurrency(requested: number): number {
    const wanted = positiveInt(requested, 'concurrency');
    const poolSize = (this.dataSource.options.extra as { max?: number } | undefined)?.max ?? 10;
    if (poolSize < 2)
      throw new Error(
        'Tenant migrations need a database pool of at least 2 connections (DATABASE_POOL_SIZE).',
      );
    return Math.min(wanted, poolSize - 1);
  }

  private report(onProgress: MigrateAllOptions['onProgress'], progress: TenantMigrationProgress): void {
    if (!onProgress) return;
    try {
      onProgress(progress);
    } catch (err) {
      // A broken progress display must not abort a migration run half-way.
      this.logger.warn({ err }, 'Migration progress callback failed');
    }
  }
}

export interface MigrateAllOptions {
  /** Schemas migrated at the same time (default: TOWNHALL_MIGRATION_CONCURRENCY); capped at pool size − 1. */
  concurrency?: number;
  /** How long one schema's statements may wait for a lock before that schema is reported busy. */
  lockTimeoutMs?: number;
  /** Called once per tenant, when it is done (migrated, up to date, skipped or failed). */
  onProgress?: (progress: TenantMigrationProgress) => void;
  /** The tenant migration history to apply; defaults to `TENANT_MIGRATIONS` (tests pass their own). */
  migrations?: readonly TenantMigration[];
  /**
   * Called for each schema that changed, inside its migration transaction: what it writes (an audit
   * entry) commits with the migration or not at all. Throwing fails that schema like a migration error.
   */
  onMigrated?: (manager: EntityManager, change: TenantSchemaChange) => Promise<void>;
}

/** One tenant schema migrated from one version to another. */
export interface TenantSchemaChange {
  tenantId: string;
  schema: string;
  fromVersion: number;
  toVersion: number;
}

export type TenantMigrationOutcome = 'migrated' | 'up_to_date' | 'skipped' | 'failed';

export interface TenantMigrationProgress {
  /** How many tenants are done so far, this one included. */
  done: number;
  total: number;
  tenantId: string;
  slug: string;
  schema: string;
  outcome: TenantMigrationOutcome;
  fromVersion: number;
  toVersion: number;
  reason?: string;
}

export interface TenantMigrationFailure {
  tenantId: string;
  slug: string;
  schema: string;
  reason: string;
}

export interface TenantMigrationSummary {
  latestVersion: number;
  /** Schemas migrated at once (the requested number, capped by the pool size). */
  concurrency: number;
  /** Tenants with a schema to keep current when the run started. */
  total: number;
  migrated: number;
  upToDate: number;
  /** Tenants that stopped qualifying during the run (deleted meanwhile). */
  skipped: number;
  failed: TenantMigrationFailure[];
  durationMs: number;
}

interface TenantToMigrate {
  id: string;
  slug: string;
  schema: string;
  version: number;
}

interface MigrationResult {
  outcome: TenantMigrationOutcome;
  fromVersion: number;
  toVersion: number;
  reason?: string;
}

const RUN_LOCK = 'townhall.tenant-migrations';

/** Tenants whose schema exists and is ours to keep current (alias `t` = platform.tenants). */
const ELIGIBLE_TENANT_SQL = `(t.status IN ('active', 'suspended', 'failed') OR (t.status = 'provisioning' AND t.migration_version > 0))
   AND EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = t.schema_name)`;

/** A reason an operator can act on; lock waits are named as such because the fix is to retry later. */
export function migrationFailureReason(err: unknown, lockTimeoutMs: number): string {
  const code = sqlState(err);
  if (code === '55P03') {
    return `lock timeout: schema busy (another transaction held a lock on it for more than ${lockTimeoutMs} ms; run again later)`;
  }
  if (code === '40P01') return 'deadlock with another transaction; run again';
  const message = err instanceof Error ? err.message : String(err);
  return `migration failed: ${message}`;
}

/**
 * Runs `work` over `items` with at most `limit` in flight. Every started task is awaited; after the
 * first failure no new task starts, and that failure is rethrown once the running ones have finished.
 */
export async function forEachWithConcurrency<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure) throw failure.error;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer (got ${value})`);
  return value;
}
