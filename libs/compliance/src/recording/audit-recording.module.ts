import { Global, Module } from '@nestjs/common';
import { resolveSecretKey, SecretBox, TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';
import { AuditRecorder } from '../audit-ports';
import { AuditSubjectCipher } from './audit-subject-cipher';
import { AuditSubjectStore } from './audit-subject-store';
import { AuditSubjects } from './audit-subjects';
import { AuditedTransactions } from './audited-transactions';
import { CheckpointAuditLog } from './checkpoint-audit-log';
import { DatabaseAuditRecorder } from './database-audit-recorder';

/**
 * Audit recording for every feature: `AuditRecorder` (entries in the caller's transaction),
 * `AuditedTransactions` (a change and its entry, refusals included), `AuditSubjects` (the people
 * behind the pseudonyms) and `CheckpointAuditLog` (a checkpoint on demand). Global, so any use case can record without importing it; it needs the
 * `AuditStore` the store module provides, and the platform secret from the core module.
 */
@Global()
@Module({
  providers: [
    {
      provide: AuditSubjectCipher,
      inject: [SecretBox, TOWNHALL_CONFIG],
      useFactory: (box: SecretBox, config: TownhallConfig) =>
        new AuditSubjectCipher(box, resolveSecretKey(config)),
    },
    AuditSubjectStore,
    { provide: AuditRecorder, useClass: DatabaseAuditRecorder },
    AuditedTransactions,
    AuditSubjects,
    CheckpointAuditLog,
  ],
  exports: [AuditRecorder, AuditedTransactions, AuditSubjects, AuditSubjectStore, CheckpointAuditLog],
})
export class AuditRecordingModule {}
