import { Global, Module } from '@nestjs/common';
import { AuditPeriodKeys } from './audit-period-keys.service';
import { AuditPeriodKeysWorker } from './audit-period-keys.worker';
import { RotateAuditPeriodKeys } from './rotate-audit-period-keys';

/**
 * The audit log's period keys (see RotateAuditPeriodKeys): their rotation, the worker that runs it
 * hourly in processes with workers, and what they say about erasures (AuditPeriodKeys). Needs the
 * audit store and recording modules.
 */
@Global()
@Module({
  providers: [RotateAuditPeriodKeys, AuditPeriodKeysWorker, AuditPeriodKeys],
  exports: [RotateAuditPeriodKeys, AuditPeriodKeys],
})
export class AuditPeriodKeysModule {}
