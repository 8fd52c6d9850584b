import { ComplianceError } from '../compliance.errors';
import {
  CompactRange,
  HASH_BYTES,
  nodeHash,
  rangeDecomposition,
  type MerkleNodeSource,
  type SubtreeRef,
} from '../merkle';

/** A perfect subtree with its hash, as `audit_nodes` (level ≥ 1) and `audit_entries` (level 0) keep it. */
export interface StoredSubtree extends SubtreeRef {
  hash: Buffer;
}

const key = (level: number, index: number): string => `${level}/${index}`;

/**
 * A MerkleNodeSource over subtree hashes fetched from the database beforehand. The proof functions read
 * nodes synchronously, so a database exporter first learns which nodes a computation reads
 * (`subtreesRead`), fetches exactly those, then runs the computation on this.
 */
export class FetchedSubtrees implements MerkleNodeSource {
  private readonly hashes = new Map<string, Buffer>();

  constructor(
    readonly size: number,
    subtrees: Iterable<StoredSubtree>,
  ) {
    for (const s of subtrees) this.hashes.set(key(s.level, s.index), s.hash);
  }

  subtree(level: number, index: number): Buffer {
    const hash = this.hashes.get(key(level, index));
    if (!hash) throw new ComplianceError('invalid_proof_request', `no complete subtree ${level}/${index}`);
    return hash;
  }
}

/**
 * The subtrees `compute` reads from a log of `size` leaves. Which nodes a proof or compact range needs
 * depends only on sizes and indexes, never on hashes, so a dry run against placeholders tells.
 */
export function subtreesRead(size: number, compute: (nodes: MerkleNodeSource) => unknown): SubtreeRef[] {
  const read = new Map<string, SubtreeRef>();
  const placeholder = Buffer.alloc(HASH_BYTES);
  compute({
    size,
    subtree(level: number, index: number): Buffer {
      if ((index + 1) * 2 ** level > size) {
        throw new ComplianceError('invalid_proof_request', `no complete subtree ${level}/${index}`);
      }
      read.set(key(level, index), { level, index });
      return placeholder;
    },
  });
  return [...read.values()];
}

/**
 * The right edge of the log's tree while the sequencer appends leaves: the compact range [0, size), and
 * for each appended leaf the interior nodes it completes — every perfect subtree that ends with it —
 * which `audit_nodes` stores so that later proofs are lookups.
 */
export class MerkleFrontier {
  private readonly edge: { level: number; hash: Buffer }[];

  /** `hashes`: the compact range [0, size), largest subtree first (as `rangeDecomposition(0, size)`). */
  constructor(
    private size: number,
    hashes: readonly Buffer[],
  ) {
    const refs = rangeDecomposition(0, size);
    if (refs.length !== hashes.length) {
      throw new ComplianceError(
        'invalid_proof_request',
        `the frontier of ${size} leaves has ${refs.length} nodes`,
      );
    }
    this.edge = refs.map((ref, i) => ({ level: ref.level, hash: hashes[i] }));
  }

  get treeSize(): number {
    return this.size;
  }

  /** Appends a leaf; returns the interior nodes it completes, lowest first. */
  append(leaf: Buffer): StoredSubtree[] {
    const end = this.size + 1;
    const completed: StoredSubtree[] = [];
    let level = 0;
    let hash = leaf;
    // Going left from a compact range's end the levels rise, so equal levels at the end are siblings.
    while (this.edge.length > 0 && this.edge[this.edge.length - 1].level === level) {
      hash = nodeHash((this.edge.pop() as { hash: Buffer }).hash, hash);
      level++;
      completed.push({ level, index: end / 2 ** level - 1, hash });
    }
    this.edge.push({ level, hash });
    this.size = end;
    return completed;
  }

  /** MTH of the leaves so far: the root a checkpoint of this size signs. */
  root(): Buffer {
    return CompactRange.fromHashes(
      0,
      this.size,
      this.edge.map((node) => node.hash),
    ).root();
  }
}
