import { Module } from '@nestjs/common';
import { MigrateCommand } from './commands/migrate.command';
import { OperatorsCreateCommand } from './commands/operators-create.command';
import { OperatorsCommand } from './commands/operators.command';
import { TenantsCreateCommand } from './commands/tenants-create.command';
import { TenantsDeleteCommand } from './commands/tenants-delete.command';
import { TenantsListCommand } from './commands/tenants-list.command';
import { TenantsResumeCommand } from './commands/tenants-resume.command';
import { TenantsRetryCommand } from './commands/tenants-retry.command';
import { TenantsShowCommand } from './commands/tenants-show.command';
import { TenantsSuspendCommand } from './commands/tenants-suspend.command';
import { TenantsCommand } from './commands/tenants.command';
import { WorkerCommand } from './commands/worker.command';
import { PlatformRuntime } from './platform-runtime';

/**
 * The `townhall` command line. This module holds only the commands; the platform (database, queues,
 * use cases) is opened by `PlatformRuntime` when a command actually runs.
 */
@Module({
  providers: [
    PlatformRuntime,
    OperatorsCommand,
    OperatorsCreateCommand,
    TenantsCommand,
    TenantsCreateCommand,
    TenantsListCommand,
    TenantsShowCommand,
    TenantsSuspendCommand,
    TenantsResumeCommand,
    TenantsRetryCommand,
    TenantsDeleteCommand,
    MigrateCommand,
    WorkerCommand,
  ],
})
export class CliModule {}
