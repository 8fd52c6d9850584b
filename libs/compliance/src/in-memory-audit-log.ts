import type { KeyObject } from 'node:crypto';
import { AuditEntry, assertAuditEntry, auditLeafHash } from './audit-entry';
import { auditConsistencyProof, proofTarget, type AuditConsistencyProof } from './audit-consistency';
import type { KeyRotationRecord } from './audit-keys';
import { AuditCheckpoint, signCheckpoint } from './checkpoint';
import { MemoryMerkleTree } from './merkle';
import { AuditExport, type ExportedLeaf, type PrecedingEntry } from './store/audit-export';

export type NewAuditEntry = Omit<AuditEntry, 'seq' | 'tenantSeq'>;

export interface AuditExportRequest {
  from?: number;
  /** Defaults to the newest checkpoint's size: entries after it are not covered yet. */
  to?: number;
  tenant?: string | null;
  actions?: readonly string[] | null;
  /** Adds a consistency proof from this tree size to the newest checkpoint. */
  since?: number | null;
  generatedAt: string;
}

/**
 * The whole audit log in memory — entries, every Merkle node, checkpoints, rotations — and the
 * reference exporter built on AuditBundleWriter. Tests and benchmarks use it; the database-backed log
 * must export byte-for-byte the same bundles for the same content.
 */
export class InMemoryAuditLog {
  readonly entries: AuditEntry[] = [];
  readonly tree = new MemoryMerkleTree();
  readonly checkpoints: AuditCheckpoint[] = [];
  readonly rotations: KeyRotationRecord[] = [];
  private readonly tenantCounters = new Map<string, number>();

  constructor(
    readonly origin: string,
    private readonly options: { tenantSeq?: boolean } = {},
  ) {}

  get size(): number {
    return this.entries.length;
  }

  append(input: NewAuditEntry): AuditEntry {
    const seq = this.entries.length;
    let entry: AuditEntry = { ...input, seq };
    if (this.options.tenantSeq && input.tenant !== null) {
      const tenantSeq = this.tenantCounters.get(input.tenant) ?? 0;
      this.tenantCounters.set(input.tenant, tenantSeq + 1);
      entry = { ...entry, tenantSeq };
    }
    assertAuditEntry(entry);
    this.entries.push(entry);
    this.tree.append(auditLeafHash(entry));
    return entry;
  }

  /** Signs the current tree head. */
  checkpoint(privateKey: KeyObject, time: string, treeSize = this.size): AuditCheckpoint {
    const cp = signCheckpoint(
      { origin: this.origin, treeSize, rootHash: this.tree.root(treeSize), time },
      privateKey,
    );
    this.checkpoints.push(cp);
    this.checkpoints.sort((a, b) => a.treeSize - b.treeSize);
    return cp;
  }

  addRotation(record: KeyRotationRecord): void {
    this.rotations.push(record);
  }

  newestCheckpoint(): AuditCheckpoint | undefined {
    return this.checkpoints[this.checkpoints.length - 1];
  }

  /** The bundle lines of an export, in order (each ends with "\n"). */
  *exportBundle(request: AuditExportRequest): Generator<string> {
    const plan = new AuditExport(this.origin, this.newestCheckpoint(), request);
    const beyond = plan.beyond(this.checkpoints.find((cp) => cp.treeSize >= plan.to));
    const proofs = plan.proofs(beyond, this.tree);
    yield* plan.opening(this.rotations, plan.prefixHashes(this.tree), this.preceding(plan));
    yield* plan.body(
      this.leaves(plan.from, plan.to),
      this.checkpoints.filter((cp) => plan.includesInside(cp)),
    );
    yield* plan.closing(beyond, proofs);
  }

  /** The tenant's last entry before the range, when the export shows one (see AuditExport). */
  private preceding(plan: AuditExport): PrecedingEntry | null {
    if (plan.precedingTenant === null) return null;
    for (let seq = plan.from - 1; seq >= 0; seq--) {
      const entry = this.entries[seq];
      if (entry.tenant !== plan.precedingTenant) continue;
      if (entry.tenantSeq === undefined) return null;
      return { entry, leaf: this.tree.leaf(seq), path: plan.precedingPath(this.tree, seq) };
    }
    return null;
  }

  private *leaves(from: number, to: number): Generator<ExportedLeaf> {
    for (let seq = from; seq < to; seq++) yield { seq, leaf: this.tree.leaf(seq), entry: this.entries[seq] };
  }

  /** The consistency proof from tree size `from` to the checkpoint of size `to` (the newest when absent). */
  consistencyProof(from: number, to?: number): AuditConsistencyProof {
    const target = proofTarget(
      to,
      this.newestCheckpoint() ?? null,
      this.checkpoints.find((cp) => cp.treeSize === to) ?? null,
    );
    return auditConsistencyProof(this.tree, from, target, this.rotations);
  }

  exportText(request: AuditExportRequest): string {
    return [...this.exportBundle(request)].join('');
  }
}
