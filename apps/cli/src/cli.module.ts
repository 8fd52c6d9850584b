import { Module } from '@nestjs/common';
import { AccountsCommand, AccountsCreateCommand } from './commands/accounts.command';
import { AuditCommand, AuditVerifyCommand, AuditVerifyConsistencyCommand } from './commands/audit.command';
import { AuditCheckpointCommand } from './commands/audit-checkpoint.command';
import { AuditRotateKeyCommand } from './commands/audit-rotate-key.command';
import { AUDIT_PERIOD_KEY_SUBCOMMANDS, AuditPeriodKeysCommand } from './commands/audit-period-keys.command';
import { AUDIT_SUBJECT_SUBCOMMANDS, AuditSubjectsCommand } from './commands/audit-subjects.command';
import { MigrateCommand } from './commands/migrate.command';
import { OPERATOR_SUBCOMMANDS, OperatorsCommand } from './commands/operators.command';
import { REGULATOR_SUBCOMMANDS, RegulatorsCommand } from './commands/regulators.command';
import { SECRET_KEY_SUBCOMMANDS, SecretKeyCommand } from './commands/secret-key.command';
import { TENANT_SUBCOMMANDS, TenantsCommand } from './commands/tenants.command';
import { TokensCommand, TokensCreateCommand } from './commands/tokens.command';
import { WorkerCommand } from './commands/worker.command';
import { WitnessCommand } from './commands/witness.command';
import { PlatformRuntime } from './platform-runtime';

/**
 * The `townhall` command line. This module holds only the commands; the platform (database, queues,
 * use cases) is opened by `PlatformRuntime` when a command actually runs.
 */
@Module({
  providers: [
    PlatformRuntime,
    OperatorsCommand,
    ...OPERATOR_SUBCOMMANDS,
    TenantsCommand,
    ...TENANT_SUBCOMMANDS,
    AccountsCommand,
    AccountsCreateCommand,
    TokensCommand,
    TokensCreateCommand,
    RegulatorsCommand,
    ...REGULATOR_SUBCOMMANDS,
    MigrateCommand,
    WorkerCommand,
    AuditCommand,
    AuditVerifyCommand,
    AuditVerifyConsistencyCommand,
    AuditRotateKeyCommand,
    AuditCheckpointCommand,
    AuditSubjectsCommand,
    ...AUDIT_SUBJECT_SUBCOMMANDS,
    AuditPeriodKeysCommand,
    ...AUDIT_PERIOD_KEY_SUBCOMMANDS,
    SecretKeyCommand,
    ...SECRET_KEY_SUBCOMMANDS,
    WitnessCommand,
  ],
})
export class CliModule {}
