import type { KeyObject } from 'node:crypto';
import { AuditEntry, assertAuditEntry, auditLeafHash } from './audit-entry';
import type { KeyRotationRecord } from './audit-keys';
import { AuditBundleWriter } from './audit-bundle-writer';
import { AuditCheckpoint, signCheckpoint } from './checkpoint';
import { ComplianceError } from './compliance.errors';
import { compactRangeHashes, consistencyProof, MemoryMerkleTree } from './merkle';

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
    const newest = this.newestCheckpoint();
    if (!newest) throw new ComplianceError('invalid_bundle_request', 'the log has no checkpoint yet');
    const from = request.from ?? 0;
    const to = request.to ?? newest.treeSize;
    const since = request.since ?? null;
    if (to > newest.treeSize) {
      throw new ComplianceError(
        'invalid_bundle_request',
        `entries from ${newest.treeSize} on are not checkpointed yet`,
      );
    }
    if (since !== null && since > newest.treeSize) {
      throw new ComplianceError('invalid_bundle_request', `there is no tree of size ${since} yet`);
    }
    const writer = new AuditBundleWriter({
      origin: this.origin,
      from,
      to,
      filters: { tenant: request.tenant ?? null, actions: request.actions ?? null },
      since,
      generatedAt: request.generatedAt,
    });
    // Inside the range every checkpoint is included (each one narrows down where an alteration is);
    // beyond it, the first one that covers the range and — for the consistency proof — the newest.
    const inside = this.checkpoints.filter((cp) => cp.treeSize > from && cp.treeSize <= to);
    const covering = this.checkpoints.find((cp) => cp.treeSize >= to);
    const beyond = new Set<AuditCheckpoint>();
    if (covering && covering.treeSize > to && to > from) beyond.add(covering);
    if (since !== null && newest.treeSize > to) beyond.add(newest);

    yield writer.header();
    for (const rotation of this.rotations) yield writer.keyRotation(rotation);
    yield writer.prefix(compactRangeHashes(this.tree, 0, from));
    let next = 0;
    for (let seq = from; seq < to; seq++) {
      for (; next < inside.length && inside[next].treeSize === seq; next++)
        yield writer.checkpoint(inside[next]);
      const out = writer.add(this.entries[seq], this.tree.leaf(seq));
      if (out) yield out;
    }
    for (; next < inside.length; next++) yield writer.checkpoint(inside[next]);
    for (const cp of beyond) yield writer.checkpoint(cp, compactRangeHashes(this.tree, to, cp.treeSize));
    if (since !== null) {
      yield writer.consistency(since, newest.treeSize, consistencyProof(this.tree, since, newest.treeSize));
    }
    yield writer.trailer();
  }

  exportText(request: AuditExportRequest): string {
    return [...this.exportBundle(request)].join('');
  }
}
