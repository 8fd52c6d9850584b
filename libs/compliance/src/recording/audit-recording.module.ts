import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SecretKeyring } from '@townhall/core';
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
 * `AuditStore` the store module provides, the platform secret from the core module, and the database
 * (for the legacy lookup key a key rotation may have left, see AuditSubjectCipher).
 */
@Global()
@Module({
  providers: [
    {
      provide: AuditSubjectCipher,
      inject: [SecretKeyring, DataSource],
      // A rotation happens with every process stopped, so the legacy lookup key is read once at start.
      useFactory: async (keyring: SecretKeyring, dataSource: DataSource) => {
        const rows = (await dataSource.query(
          `SELECT audit_legacy_lookup_key_sealed AS sealed FROM platform.secret_key_check WHERE id = 1`,
        )) as { sealed: string | null }[];
        return AuditSubjectCipher.withSealedLegacyKey(keyring, rows[0]?.sealed ?? null);
      },
    },
    AuditSubjectStore,
    { provide: AuditRecorder, useClass: DatabaseAuditRecorder },
    AuditedTransactions,
    AuditSubjects,
    CheckpointAuditLog,
  ],
  exports: [
    AuditRecorder,
    AuditedTransactions,
    AuditSubjects,
    AuditSubjectStore,
    AuditSubjectCipher,
    CheckpointAuditLog,
  ],
})
export class AuditRecordingModule {}
