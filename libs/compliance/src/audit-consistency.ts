import { auditTimeOrder } from './audit-entry';
import { AuditKeyring, type AuditKeysInput, type KeyRotationRecord } from './audit-keys';
import {
  checkpointSignatureFailure,
  followRotationLine,
  type AuditVerificationFailure,
} from './audit-verification';
import { checkpointProblem, decodeHash, encodeHash, type AuditCheckpoint } from './checkpoint';
import { ComplianceError } from './compliance.errors';
import { consistencyProof, verifyConsistency, type MerkleNodeSource } from './merkle';

/**
 * A consistency proof on its own (docs/audit-format.md §8, "Consistency without a bundle"): for a
 * regulator who kept a checkpoint and wants to know, without downloading entries, that the log's newer
 * checkpoint extends it. What `GET /api/regulator/v1/checkpoints/consistency` answers and `townhall
 * audit verify-consistency` checks.
 */
export interface AuditConsistencyProof {
  /** The tree size the proof starts from: the size of the checkpoint the regulator kept. */
  from: number;
  /** The tree size of `checkpoint`. */
  to: number;
  /** The signed checkpoint the proof leads to. */
  checkpoint: AuditCheckpoint;
  /** Every key rotation record, as bundles carry them, for a verifier that holds one key. */
  keyRotations: KeyRotationRecord[];
  /** The RFC 9162 §2.1.4.1 consistency proof from `from` to `to`, base64. */
  hashes: string[];
}

/**
 * The proof from tree size `from` to `checkpoint`, read from `nodes` (the log, or the stored subtrees
 * it needs). Throws `invalid_proof_request` when `from` is beyond the checkpoint.
 */
export function auditConsistencyProof(
  nodes: MerkleNodeSource,
  from: number,
  checkpoint: AuditCheckpoint,
  keyRotations: readonly KeyRotationRecord[],
): AuditConsistencyProof {
  if (!Number.isSafeInteger(from) || from < 0 || from > checkpoint.treeSize) {
    throw new ComplianceError(
      'invalid_proof_request',
      `from must be a tree size up to the checkpoint's (${checkpoint.treeSize})`,
    );
  }
  return {
    from,
    to: checkpoint.treeSize,
    checkpoint,
    keyRotations: [...keyRotations],
    hashes: consistencyProof(nodes, from, checkpoint.treeSize).map(encodeHash),
  };
}

/**
 * Which checkpoint a request for a proof leads to: the one of size `to`, or the newest. Throws
 * `checkpoint_not_found` when the log has none of that size.
 */
export function proofTarget(
  to: number | undefined,
  newest: AuditCheckpoint | null,
  ofSize: AuditCheckpoint | null,
): AuditCheckpoint {
  const target = to === undefined ? newest : ofSize;
  if (!target) {
    throw new ComplianceError(
      'checkpoint_not_found',
      to === undefined
        ? 'the audit log has no checkpoint yet'
        : `the audit log has no checkpoint of tree size ${to}`,
    );
  }
  return target;
}

export interface AuditConsistencySummary {
  origin: string;
  /** The checkpoint the verifier kept. */
  since: { treeSize: number; rootHash: string; time: string };
  /** The newer checkpoint, now shown to extend it: keep it for next time. */
  checkpoint: AuditCheckpoint;
}

export type AuditConsistencyResult =
  { ok: true; summary: AuditConsistencySummary } | AuditVerificationFailure;

/**
 * Checks a consistency proof document against the checkpoint the verifier kept (`since`) and the keys
 * it trusts, with the rules a bundle's checkpoints follow (§8): both checkpoints signed by keys valid at
 * their times (rotation records followed only from a single key), the newer not dated before the
 * older, and the proof leading from the older root to the newer one.
 */
export function verifyAuditConsistency(
  document: unknown,
  keys: AuditKeysInput,
  since: AuditCheckpoint,
): AuditConsistencyResult {
  const fail = (f: Omit<AuditVerificationFailure, 'ok'>): AuditVerificationFailure => ({ ok: false, ...f });
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return fail({ reason: 'malformed', message: 'a consistency proof is a JSON object' });
  }
  const sinceProblem = checkpointProblem(since);
  if (sinceProblem !== null) {
    return fail({ reason: 'malformed', message: `the checkpoint kept: ${sinceProblem}` });
  }
  const d = document as Partial<Record<keyof AuditConsistencyProof, unknown>>;
  const problem = checkpointProblem(d.checkpoint);
  if (problem !== null) return fail({ reason: 'malformed', message: `its checkpoint: ${problem}` });
  const checkpoint = d.checkpoint as AuditCheckpoint;
  const proof = Array.isArray(d.hashes) ? d.hashes.map(decodeHash) : [null];
  const rotations = d.keyRotations ?? [];
  if (
    d.from !== since.treeSize ||
    d.to !== checkpoint.treeSize ||
    checkpoint.treeSize < since.treeSize ||
    proof.some((h) => h === null) ||
    !Array.isArray(rotations)
  ) {
    return fail({
      reason: 'malformed',
      message: `the document must prove tree size ${since.treeSize} (the checkpoint kept) consistent with its checkpoint, with a list of base64 hashes`,
    });
  }
  if (checkpoint.origin !== since.origin) {
    return fail({
      reason: 'inconsistent',
      checkpoint: since.treeSize,
      message: `the proof is about log "${checkpoint.origin}", the checkpoint kept about "${since.origin}"`,
    });
  }
  const keyring = AuditKeyring.from(keys);
  for (const rotation of rotations) {
    const refused = followRotationLine(keyring, rotation);
    if (refused !== null) return fail(refused);
  }
  for (const [cp, what] of [
    [since, 'the checkpoint kept'],
    [checkpoint, `checkpoint ${checkpoint.treeSize}`],
  ] as const) {
    const refused = checkpointSignatureFailure(keyring, cp, what);
    if (refused !== null) return fail(refused);
  }
  const sinceRoot = decodeHash(since.rootHash) as Buffer;
  const root = decodeHash(checkpoint.rootHash) as Buffer;
  if (checkpoint.treeSize === since.treeSize && !root.equals(sinceRoot)) {
    return fail({
      reason: 'fork',
      checkpoint: since.treeSize,
      message: `two checkpoints of tree size ${since.treeSize} are signed with different roots`,
    });
  }
  if (checkpoint.treeSize > since.treeSize && auditTimeOrder(checkpoint.time) < auditTimeOrder(since.time)) {
    return fail({
      reason: 'backdated',
      checkpoint: checkpoint.treeSize,
      message: `checkpoint ${checkpoint.treeSize} is dated ${checkpoint.time}, before the smaller checkpoint kept (${since.time})`,
    });
  }
  if (!verifyConsistency(since.treeSize, checkpoint.treeSize, sinceRoot, root, proof as Buffer[])) {
    return fail({
      reason: 'inconsistent',
      checkpoint: since.treeSize,
      message: `checkpoint ${checkpoint.treeSize} is not an append-only extension of the checkpoint kept (${since.treeSize}): history was rewritten`,
    });
  }
  return {
    ok: true,
    summary: {
      origin: since.origin,
      since: { treeSize: since.treeSize, rootHash: since.rootHash, time: since.time },
      checkpoint,
    },
  };
}
