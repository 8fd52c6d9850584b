import { Global, Module } from '@nestjs/common';
import { AuditPeriodKeysWorker } from './audit-period-keys.worker';
import { RotateAuditPeriodKeys } from './rotate-audit-period-keys';

/**
 * The audit log's period keys (see RotateAuditPeriodKeys): their rotation, and the worker that runs it
 * hourly in processes with workers. Needs the audit store and recording modules.
 */
@Global()
@Module({
  providers: [RotateAuditPeriodKeys, AuditPeriodKeysWorker],
  exports: [RotateAuditPeriodKeys],
})
export class AuditPeriodKeysModule {}
