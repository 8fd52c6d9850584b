import type { AuditEntry } from '../audit-entry';
import type { KeyRotationRecord } from '../audit-keys';
import { AuditBundleWriter } from '../audit-bundle-writer';
import type { AuditCheckpoint } from '../checkpoint';
import { ComplianceError } from '../compliance.errors';
import type { AuditExportRequest } from '../in-memory-audit-log';
import {
  compactRangeHashes,
  consistencyProof,
  holdingSubtree,
  subtreePath,
  type MerkleNodeSource,
} from '../merkle';

/** One position of the exported range: its leaf hash, and the entry itself when the filters show it. */
export interface ExportedLeaf {
  seq: number;
  leaf: Buffer;
  /** Absent for an entry outside the filters: only its hash goes into an `omitted` line. */
  entry?: AuditEntry;
  /** The entry's canonical JSON as stored, which its leaf hash covers: written as is. */
  stored?: string;
}

/** Consecutive positions [seq, to) outside the filters, given by the hashes of their compact range. */
export interface OmittedRun {
  seq: number;
  to: number;
  hashes: readonly Buffer[];
}

/** The tenant's last entry before the range and the path from its leaf up to the prefix subtree holding it. */
export interface PrecedingEntry {
  entry: AuditEntry;
  leaf: Buffer;
  stored?: string;
  path: Buffer[];
}

/** The hashes the closing lines need: a range proof per checkpoint beyond the range, the consistency proof. */
export interface ExportProofs {
  rangeProofs: Buffer[][];
  consistency: Buffer[] | null;
}

/**
 * One export, planned and written: which range and checkpoints a request covers (docs/audit-format.md §7,
 * "What an export contains") and the bundle's lines in order. The in-memory reference log and the
 * database store both export through it — each only supplies the data from where it keeps it — so the
 * two produce the same bytes for the same log.
 *
 * Everything here is synchronous; the database store fetches what a step needs first (entries batch by
 * batch, the Merkle nodes a proof reads) and then calls the step.
 */
export class AuditExport {
  readonly from: number;
  readonly to: number;
  readonly since: number | null;
  readonly newest: AuditCheckpoint;
  /**
   * The tenant whose last entry before the range the bundle shows (filtered by tenant alone, from > 0),
   * so the verifier knows where that tenant's counter stands; null when there is none to show.
   */
  readonly precedingTenant: string | null;
  private readonly writer: AuditBundleWriter;

  /** Validates the request against the log's newest checkpoint; throws `invalid_bundle_request`. */
  constructor(origin: string, newest: AuditCheckpoint | null | undefined, request: AuditExportRequest) {
    if (!newest) {
      throw new ComplianceError(
        'invalid_bundle_request',
        'the log has no checkpoint yet: workers sign the first one TOWNHALL_AUDIT_CHECKPOINT_SECONDS after they start, or run `townhall audit checkpoint`',
      );
    }
    this.newest = newest;
    this.from = request.from ?? 0;
    this.to = request.to ?? newest.treeSize;
    this.since = request.since ?? null;
    if (this.to > newest.treeSize) {
      throw new ComplianceError(
        'invalid_bundle_request',
        `entries from ${newest.treeSize} on are not checkpointed yet`,
      );
    }
    if (this.since !== null && !(Number.isSafeInteger(this.since) && this.since >= 0)) {
      throw new ComplianceError('invalid_bundle_request', 'since must be a tree size');
    }
    if (this.since !== null && this.since > newest.treeSize) {
      throw new ComplianceError('invalid_bundle_request', `there is no tree of size ${this.since} yet`);
    }
    this.precedingTenant =
      request.tenant != null && request.actions == null && this.from > 0 ? request.tenant : null;
    this.writer = new AuditBundleWriter({
      origin,
      from: this.from,
      to: this.to,
      filters: { tenant: request.tenant ?? null, actions: request.actions ?? null },
      since: this.since,
      generatedAt: request.generatedAt,
    });
  }

  /** Inside the range every checkpoint is included: each one narrows down where an alteration is. */
  includesInside(cp: AuditCheckpoint): boolean {
    return cp.treeSize > this.from && cp.treeSize <= this.to;
  }

  /**
   * The checkpoints written after the range's lines: the first one at or beyond `to` (`covering`, the
   * first by tree size, then by signing order) when no checkpoint ends the range, and — for the
   * consistency proof — the newest.
   *
   * An empty range (`from == to`) has nothing inside it, so a checkpoint of size `to` goes here: it
   * vouches for the prefix, and when it is the newest the consistency proof needs it in the bundle. A
   * later one is left out unless it is the newest and `since` asks for it: there are no entries to cover.
   */
  beyond(covering: AuditCheckpoint | undefined): AuditCheckpoint[] {
    const out: AuditCheckpoint[] = [];
    const empty = this.to === this.from;
    if (covering && (empty ? covering.treeSize === this.to : covering.treeSize > this.to)) out.push(covering);
    const newest = this.newest;
    const newestAfterLines = empty ? newest.treeSize >= this.to : newest.treeSize > this.to;
    if (this.since !== null && newestAfterLines && !out.some((cp) => sameCheckpoint(cp, newest))) {
      out.push(newest);
    }
    return out;
  }

  /** The compact range [0, from). */
  prefixHashes(nodes: MerkleNodeSource): Buffer[] {
    return compactRangeHashes(nodes, 0, this.from);
  }

  /**
   * The path from leaf `seq` (< from) up to the root of the prefix subtree that holds it, lowest first:
   * each level's sibling.
   */
  precedingPath(nodes: MerkleNodeSource, seq: number): Buffer[] {
    return subtreePath(nodes, seq, holdingSubtree(this.from, seq).ref.level);
  }

  /** Reads only the nodes the proofs need, so the database store can run it first to learn which. */
  proofs(beyond: readonly AuditCheckpoint[], nodes: MerkleNodeSource): ExportProofs {
    return {
      rangeProofs: beyond.map((cp) => compactRangeHashes(nodes, this.to, cp.treeSize)),
      consistency: this.since === null ? null : consistencyProof(nodes, this.since, this.newest.treeSize),
    };
  }

  *opening(
    rotations: Iterable<KeyRotationRecord>,
    prefix: readonly Buffer[],
    preceding?: PrecedingEntry | null,
  ): Generator<string> {
    yield this.writer.header();
    for (const rotation of rotations) yield this.writer.keyRotation(rotation);
    yield this.writer.prefix(prefix);
    if (preceding) {
      yield this.writer.preceding(preceding.entry, preceding.path, preceding.leaf, preceding.stored);
    }
  }

  /**
   * The lines of a run of consecutive positions — single leaves, or runs of omitted ones that no
   * checkpoint falls inside — with the checkpoints among them (ascending; those `includesInside`): a
   * checkpoint of size N goes right before position N, or after the run's last position if N is past
   * it. Called once for the whole range, or batch after batch.
   */
  *body(
    leaves: Iterable<ExportedLeaf | OmittedRun>,
    checkpoints: Iterable<AuditCheckpoint>,
  ): Generator<string> {
    const pending = checkpoints[Symbol.iterator]();
    let next = pending.next();
    for (const leaf of leaves) {
      for (; !next.done && next.value.treeSize <= leaf.seq; next = pending.next()) {
        yield this.writer.checkpoint(next.value);
      }
      // A run must not straddle a checkpoint: the checkpoint's line goes inside it.
      if ('hashes' in leaf && !next.done && next.value.treeSize < leaf.to) {
        throw new Error(
          `checkpoint ${next.value.treeSize} lies inside the omitted run [${leaf.seq}, ${leaf.to})`,
        );
      }
      const out =
        'hashes' in leaf
          ? this.writer.omitRange(leaf.seq, leaf.to, leaf.hashes)
          : leaf.entry
            ? this.writer.add(leaf.entry, leaf.leaf, leaf.stored)
            : this.writer.omit(leaf.seq, leaf.leaf);
      if (out) yield out;
    }
    for (; !next.done; next = pending.next()) yield this.writer.checkpoint(next.value);
  }

  *closing(beyond: readonly AuditCheckpoint[], proofs: ExportProofs): Generator<string> {
    for (let i = 0; i < beyond.length; i++) yield this.writer.checkpoint(beyond[i], proofs.rangeProofs[i]);
    if (this.since !== null) {
      yield this.writer.consistency(this.since, this.newest.treeSize, proofs.consistency ?? []);
    }
    yield this.writer.trailer();
  }
}

/** Two records of one signed head (a signature covers origin, size, root and time; the key makes the id). */
function sameCheckpoint(a: AuditCheckpoint, b: AuditCheckpoint): boolean {
  return a === b || (a.signature === b.signature && a.keyId === b.keyId);
}
