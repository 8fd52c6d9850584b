import { Command, Help, Option } from 'nest-commander';
import { AuditRecorder } from '@townhall/compliance';
import {
  TenantMigrationProgress,
  TenantMigrationRunner,
  TenantMigrationSummary,
  TenantSchemaChange,
} from '@townhall/tenancy';
import {
  CliError,
  helpText,
  notice,
  positiveIntegerOption,
  printFields,
  printJson,
  printTable,
} from '../cli-output';
import { PlatformCommand } from './platform-command';

interface Options {
  concurrency?: number;
  lockTimeoutMs?: number;
  json?: boolean;
}

@Command({
  name: 'migrate',
  description: 'apply pending platform migrations, then bring every tenant schema to the latest version',
})
export class MigrateCommand extends PlatformCommand {
  @Option({
    flags: '--concurrency <n>',
    description: 'tenant schemas migrated at once (default TOWNHALL_MIGRATION_CONCURRENCY, 4)',
  })
  concurrency(value: string): number {
    return positiveIntegerOption(value, 64);
  }

  @Option({
    flags: '--lock-timeout-ms <n>',
    description:
      'how long one schema may wait for a lock before it is reported busy (default TOWNHALL_MIGRATION_LOCK_TIMEOUT_MS, 5000)',
  })
  lockTimeoutMs(value: string): number {
    return positiveIntegerOption(value, 600_000);
  }

  @Option({ flags: '--json', description: 'print the summary as JSON (progress still goes to stderr)' })
  json(): boolean {
    return true;
  }

  @Help('after')
  examples(): string {
    return helpText(
      [
        'townhall migrate',
        'townhall migrate --concurrency 8 --lock-timeout-ms 2000',
        'townhall migrate --json | jq .failed',
      ],
      [
        'Each tenant schema migrates in its own transaction; a busy or failing schema is reported and the',
        'others go on. Running again does only what is left. Exit status 1 if any tenant failed. Only one',
        'run at a time: a second one stops at once with "another migration run is in progress".',
      ],
    );
  }

  async run(_params: string[], options: Options = {}): Promise<void> {
    // Opening the platform applies its pending migrations (under their own advisory lock).
    const context = await this.runtime.open();
    const config = this.runtime.config();
    const concurrency = options.concurrency ?? config.migrations.concurrency;
    const lockTimeoutMs = options.lockTimeoutMs ?? config.migrations.lockTimeoutMs;
    notice(
      `Platform schema is up to date. Migrating tenant schemas (concurrency ${concurrency}, lock timeout ${lockTimeoutMs} ms)…`,
    );
    const summary = await this.runtime.act((ctx) =>
      context.get(TenantMigrationRunner).migrateAll({
        concurrency,
        lockTimeoutMs,
        onProgress: reportProgress,
        onMigrated: (manager, change) => ctx.get(AuditRecorder).record(manager, tenantEntry(change)),
      }),
    );
    await this.runtime.act((ctx) => ctx.get(AuditRecorder).recordAlone(runEntry(summary)));
    if (options.json) printJson(summary);
    else printSummary(summary);
    if (summary.failed.length > 0) {
      throw new CliError(
        `${summary.failed.length} tenant schema(s) could not be migrated; fix the cause and run \`townhall migrate\` again`,
      );
    }
  }
}

/** Failed tenants named in a run's audit entry at most; the count is always complete. */
const MAX_FAILED_IN_ENTRY = 100;

/** A schema's audit entry (`tenant.migrate`), recorded in the transaction that migrates it. */
function tenantEntry(change: TenantSchemaChange): Parameters<AuditRecorder['record']>[1] {
  return {
    action: 'tenant.migrate',
    target: { type: 'tenant', id: change.tenantId },
    tenant: change.tenantId,
    outcome: 'success',
    details: { from: change.fromVersion, to: change.toVersion },
  };
}

/**
 * A run's audit entry (`tenant.migrate_all`): counts and the tenants that failed, recorded once the run
 * has finished, in a transaction of its own. Each schema that changed has its own `tenant.migrate`
 * entry, committed with its migration, so a run that dies half-way leaves those on the record.
 */
function runEntry(s: TenantMigrationSummary): Parameters<AuditRecorder['record']>[1] {
  return {
    action: 'tenant.migrate_all',
    target: { type: 'platform', id: 'platform' },
    tenant: null,
    outcome: s.failed.length === 0 ? 'success' : 'failure',
    details: {
      latestVersion: s.latestVersion,
      total: s.total,
      migrated: s.migrated,
      upToDate: s.upToDate,
      skipped: s.skipped,
      failed: s.failed.length,
      failedTenantIds: s.failed.slice(0, MAX_FAILED_IN_ENTRY).map((f) => f.tenantId),
    },
  };
}

/** One line per tenant that changed or failed; tenants already current are only counted. */
function reportProgress(p: TenantMigrationProgress): void {
  const prefix = `[${p.done}/${p.total}] ${p.schema} (${p.slug})`;
  if (p.outcome === 'migrated') notice(`${prefix} migrated ${p.fromVersion} -> ${p.toVersion}`);
  else if (p.outcome === 'failed') notice(`${prefix} FAILED at version ${p.fromVersion}: ${p.reason}`);
  else if (p.outcome === 'skipped') notice(`${prefix} skipped: no longer eligible (being deleted?)`);
}

function printSummary(s: TenantMigrationSummary): void {
  printFields([
    ['latest tenant version', s.latestVersion],
    ['concurrency', s.concurrency],
    ['tenants', s.total],
    ['migrated', s.migrated],
    ['up to date', s.upToDate],
    ['skipped', s.skipped],
    ['failed', s.failed.length],
    ['duration', `${(s.durationMs / 1000).toFixed(1)} s`],
  ]);
  if (s.failed.length > 0) {
    printTable(
      ['tenant id', 'slug', 'schema', 'reason'],
      s.failed.map((f) => [f.tenantId, f.slug, f.schema, f.reason]),
    );
  }
}
