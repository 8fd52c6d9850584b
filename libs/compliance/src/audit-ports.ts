import type { EntityManager } from 'typeorm';
import type { AuditActor, AuditEntry, AuditOutcome, AuditTarget, JsonValue } from './audit-entry';
import type { AuditConsistencyProof } from './audit-consistency';
import type { AuditKeyDescription } from './audit-keys';
import type { AuditCheckpoint } from './checkpoint';
import type { AuditExportRequest } from './in-memory-audit-log';

/**
 * The seams between the audit log's parts. `AuditStore` is the database log (pending rows, sequencer,
 * Merkle nodes, checkpoints, signing keys, exports); `AuditRecorder` is what features call: it fills in
 * the actor and request from the audit context, moves personal data to the encrypted side table, and
 * appends through the store — in the caller's transaction, or, for an entry that accompanies no change
 * (a refusal, an export), on its own.
 */

/** What a row of personal data in the audit log's side table is about. */
export type PersonalDataKind = 'mentioned' | 'connection' | 'behalf';

/** One row of the side table (`platform.audit_personal_data`), already encrypted under its subject's key. */
export interface SealedPersonalData {
  /** The entry's `details.personalDataRef`. */
  ref: string;
  position: number;
  subjectId: string;
  kind: PersonalDataKind;
  ciphertext: string;
}

/** An entry as a recorder hands it to the store: the store assigns `seq` (and `tenantSeq`). */
export type UnsequencedAuditEntry = Omit<AuditEntry, 'seq' | 'tenantSeq'>;

export abstract class AuditStore {
  /**
   * Queues `entry`, with the side-table rows it refers to, in the caller's transaction (`manager` must be
   * inside one): it becomes part of the log when that transaction commits, and never if it rolls back.
   * Throws `invalid_audit_entry` for a malformed entry, writing nothing.
   */
  abstract append(
    manager: EntityManager,
    entry: UnsequencedAuditEntry,
    personal?: readonly SealedPersonalData[],
  ): Promise<void>;

  /**
   * Queues an entry that accompanies no change (a refusal, an export, a denied request), together with
   * the side-table rows it refers to, as one statement committed on its own: durable once the promise
   * resolves, entry and rows together or neither. Throws `invalid_audit_entry` for a malformed entry,
   * writing nothing.
   */
  abstract appendAlone(entry: UnsequencedAuditEntry, personal?: readonly SealedPersonalData[]): Promise<void>;

  /**
   * Sequences every committed pending entry and signs a checkpoint of the resulting tree (or returns the
   * newest one when nothing new was appended). Null only while the log is empty.
   */
  abstract checkpointNow(): Promise<AuditCheckpoint | null>;

  abstract newestCheckpoint(): Promise<AuditCheckpoint | null>;

  /** Checkpoints by ascending tree size, those with `treeSize > after`. */
  abstract listCheckpoints(query: { after?: number; limit: number }): Promise<AuditCheckpoint[]>;

  /**
   * The lines of an export bundle (docs/audit-format.md), each ending with "\n", streamed from the
   * database with bounded memory. Throws `invalid_bundle_request` (before yielding anything) for a
   * range or `since` the log cannot cover.
   */
  abstract exportBundle(request: Omit<AuditExportRequest, 'generatedAt'>): AsyncIterable<string>;

  /**
   * The consistency proof from tree size `from` to the checkpoint of size `to` (the newest when absent),
   * with that checkpoint and the key rotation records (docs/audit-format.md §8). Throws
   * `checkpoint_not_found` when no checkpoint has size `to` (or none exists), `invalid_proof_request`
   * when `from` is beyond it.
   */
  abstract consistencyProof(query: { from: number; to?: number }): Promise<AuditConsistencyProof>;

  /** The platform's audit signing keys, current and retired, for `GET /api/platform/v1/audit/keys`. */
  abstract keys(): Promise<AuditKeyDescription[]>;
}

/** Who is acting and through which request; set once per HTTP request, CLI command or job. */
export interface AuditContextValue {
  actor: AuditActor;
  requestId?: string;
  /** Personal data: never written into an entry, only into the encrypted side table. */
  ip?: string;
  userAgent?: string;
}

/** Personal data about one person, stored encrypted under that person's key, outside the log. */
export interface AuditPersonalData {
  /** What identifies the person across entries (e.g. `email:owner@agency.example`); never stored in clear. */
  identifier: string;
  /** e.g. `{ email: "…", name: "…" }`. */
  data: Record<string, string>;
}

export interface AuditRecordInput {
  /** Defaults to the actor of the current audit context; recording with neither throws. */
  actor?: AuditActor;
  action: string;
  target: AuditTarget;
  tenant: string | null;
  outcome: AuditOutcome;
  details?: { [member: string]: JsonValue };
  /**
   * People this entry mentions. Each is replaced in the entry by a pseudonymous subject id (listed in
   * `details.subjects`); the data goes to the side table.
   */
  personal?: AuditPersonalData[];
  /**
   * Free text the actor wrote, such as a suspension reason: it may name people, so it goes to the side
   * table under the acting person's subject (listed in `details.subjects`), never into the entry.
   */
  authored?: Record<string, string>;
}

export abstract class AuditRecorder {
  /** Records one entry in the caller's transaction (see `AuditStore.append`). */
  abstract record(manager: EntityManager, input: AuditRecordInput): Promise<void>;

  /**
   * Records an entry that accompanies no change — a refusal, an export, a denial — committed by the time
   * the promise resolves: one statement when it carries no personal data (`AuditStore.appendAlone`), else
   * one transaction with its side-table rows.
   */
  abstract recordAlone(input: AuditRecordInput): Promise<void>;
}
