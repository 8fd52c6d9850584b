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
import { AuditWitnessesRepository } from './witnesses/audit-witnesses.repository';
import { CheckpointNotes } from './witnesses/checkpoint-notes';
import { WitnessSubmission } from './witnesses/witness-submission';
import { WitnessSubmissionWorker } from './witnesses/witness-submission.worker';

/**
 * The audit log in the platform database, for every process: `AuditStore` (the port features and the
 * recorder depend on) backed by `DatabaseAuditStore`, and key rotation (`RotateAuditKey`). The
 * sequencer runs in processes with workers; it and key rotation write through a small pool of the
 * owner's own (`AuditOwnerConnection`). Workers also submit new checkpoints to the configured
 * witnesses (`WitnessSubmissionWorker`); `CheckpointNotes` publishes checkpoints as signed notes. Needs
 * the DataSource, the configuration, the SecretBox and audit recording (PlatformModule provides them all).
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
    // Witnesses: checkpoints submitted for cosigning, and published as signed notes.
    AuditWitnessesRepository,
    CheckpointNotes,
    WitnessSubmission,
    WitnessSubmissionWorker,
  ],
  exports: [
    AuditStore,
    DatabaseAuditStore,
    AuditSequencer,
    AuditOwnerConnection,
    RotateAuditKey,
    CheckpointNotes,
    AuditWitnessesRepository,
  ],
})
export class AuditStoreModule {}
