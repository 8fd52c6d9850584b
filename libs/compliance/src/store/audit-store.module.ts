import { Global, Module } from '@nestjs/common';
import { AuditStore } from '../audit-ports';
import { AuditLogRepository } from './audit-log.repository';
import { AuditOwnerConnection } from './audit-owner-connection';
import { AuditSequencer } from './audit-sequencer';
import { AuditSequencerWorker } from './audit-sequencer.worker';
import { AuditSigningKeys } from './audit-signing-keys';
import { DatabaseAuditStore } from './database-audit-store';
import { ExternalAuditSigners } from './external-audit-signers';
import { RotateAuditKey } from './rotate-audit-key';

/**
 * The audit log in the platform database, for every process: `AuditStore` (the port features and the
 * recorder depend on) backed by `DatabaseAuditStore`, and key rotation (`RotateAuditKey`). The
 * sequencer runs in processes with workers; it and key rotation write through a small pool of the
 * owner's own (`AuditOwnerConnection`). Needs the DataSource, the configuration, the SecretBox and
 * audit recording (PlatformModule provides them all).
 */
@Global()
@Module({
  providers: [
    AuditLogRepository,
    AuditOwnerConnection,
    ExternalAuditSigners,
    AuditSigningKeys,
    AuditSequencer,
    AuditSequencerWorker,
    DatabaseAuditStore,
    { provide: AuditStore, useExisting: DatabaseAuditStore },
    RotateAuditKey,
  ],
  exports: [AuditStore, DatabaseAuditStore, AuditSequencer, AuditOwnerConnection, RotateAuditKey],
})
export class AuditStoreModule {}
