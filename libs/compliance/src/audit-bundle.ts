import type { AuditEntry } from './audit-entry';
import type { KeyRotationRecord } from './audit-keys';
import type { AuditCheckpoint } from './checkpoint';

/**
 * The export bundle: NDJSON (one JSON object per line, UTF-8, "\n"-terminated), readable and verifiable
 * as a stream. docs/audit-format.md is the normative description; the types here mirror it.
 *
 * Line order:
 *   header
 *   key_rotation*                  rotation records the verifier may need to trust newer keys
 *   prefix                         compact range of [0, from): the hashes left of the exported range
 *   preceding?                     (filtered by tenant alone, from > 0) the tenant's last entry before the
 *                                  range, proven against the prefix: where the tenant's counter stands
 *   ( entry | omitted | checkpoint [range_proof] )*   in sequence order; a checkpoint of size N ≤ to comes
 *                                  right after the line that ends at seq N−1; checkpoints beyond `to` come
 *                                  after the last entry, each followed by its range_proof
 *   consistency?                   RFC 9162 consistency proof from tree size `since` to a checkpoint
 *   trailer
 */
export const AUDIT_BUNDLE_FORMAT = 'townhall-audit-bundle/1';

export interface AuditBundleFilters {
  /** Only this tenant's entries are shown; the others are summarised by `omitted` lines. */
  tenant: string | null;
  /** Only these actions are shown. */
  actions: string[] | null;
}

export interface BundleHeaderLine {
  type: 'header';
  format: typeof AUDIT_BUNDLE_FORMAT;
  origin: string;
  /** The exported sequence range [from, to). */
  range: { from: number; to: number };
  filters: AuditBundleFilters;
  /** The tree size the consistency proof starts from, when the export was asked for one. */
  since: number | null;
  generatedAt: string;
}

export interface BundleKeyRotationLine extends KeyRotationRecord {
  type: 'key_rotation';
}

export interface BundlePrefixLine {
  type: 'prefix';
  /** Equal to range.from. */
  treeSize: number;
  /** Base64 roots of the perfect subtrees covering [0, treeSize), largest first. */
  hashes: string[];
}

/** The tenant's last entry before the range, with the path from its leaf to the prefix subtree holding it. */
export interface BundlePrecedingLine {
  type: 'preceding';
  leafHash: string;
  /** Base64 sibling hashes from the leaf up to the root of the prefix subtree that holds it, lowest first. */
  path: string[];
  entry: AuditEntry;
}

export interface BundleEntryLine {
  type: 'entry';
  /**
   * The exporter's leaf hash of `entry`. Never used to compute a root — the verifier recomputes it — but
   * a mismatch pins an alteration to this entry instead of to the next checkpoint.
   */
  leafHash: string;
  entry: AuditEntry;
}

export interface BundleOmittedLine {
  type: 'omitted';
  /** Entries [from, to) exist but are outside the export's filters … */
  from: number;
  to: number;
  /** … and these are the roots of the compact range [from, to) that stand in for them. */
  hashes: string[];
}

export interface BundleCheckpointLine extends AuditCheckpoint {
  type: 'checkpoint';
}

export interface BundleRangeProofLine {
  type: 'range_proof';
  /** range.to of the bundle. */
  from: number;
  /** The tree size of the checkpoint this line follows. */
  to: number;
  /** Base64 roots of the compact range [from, to), left to right. */
  hashes: string[];
}

export interface BundleConsistencyLine {
  type: 'consistency';
  from: number;
  to: number;
  /** The RFC 9162 §2.1.4.1 consistency proof, base64. */
  hashes: string[];
}

export interface BundleTrailerLine {
  type: 'trailer';
  entries: number;
  omitted: number;
  checkpoints: number;
}

export type BundleLine =
  | BundleHeaderLine
  | BundleKeyRotationLine
  | BundlePrefixLine
  | BundlePrecedingLine
  | BundleEntryLine
  | BundleOmittedLine
  | BundleCheckpointLine
  | BundleRangeProofLine
  | BundleConsistencyLine
  | BundleTrailerLine;
