import { AuditEntry, assertAuditEntry, isAuditTime } from './audit-entry';
import type { KeyRotationRecord } from './audit-keys';
import { AUDIT_BUNDLE_FORMAT, AuditBundleFilters, BundleHeaderLine } from './audit-bundle';
import { canonicalJson } from './canonical-json';
import { AuditCheckpoint, checkpointProblem, encodeHash } from './checkpoint';
import { ComplianceError } from './compliance.errors';
import { CompactRange, leafHash, rangeDecomposition } from './merkle';
import { readCosignatures } from './witness/witness-policy';

export interface AuditBundleRequest {
  origin: string;
  from: number;
  to: number;
  filters?: { tenant?: string | null; actions?: readonly string[] | null };
  since?: number | null;
  generatedAt: string;
}

type Phase = 'start' | 'preamble' | 'body' | 'done';

function fail(detail: string): never {
  throw new ComplianceError('invalid_bundle_request', detail);
}

const line = (value: unknown): string => JSON.stringify(value) + '\n';

/**
 * Writes a bundle line by line, in the order docs/audit-format.md prescribes, refusing any call that
 * would produce a bundle an honest verifier rejects. Each method returns the text to append (possibly
 * empty), so the same writer serves a database export streaming to an HTTP response and an in-memory
 * test log. Entries outside the filters become `omitted` lines whose hashes summarise whole runs.
 */
export class AuditBundleWriter {
  readonly filters: AuditBundleFilters;
  private readonly actions: ReadonlySet<string> | null;
  private phase: Phase = 'start';
  private position: number;
  private run: CompactRange | null = null;
  private awaitingRangeProof: number | null = null;
  private lastCheckpoint = -1;
  private shown = 0;
  private omittedLeaves = 0;
  private checkpoints = 0;
  /** Whether nothing has been written since the prefix: where the tenant's entry before the range goes. */
  private justAfterPrefix = false;

  constructor(readonly request: AuditBundleRequest) {
    const { from, to } = request;
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
      fail(`[${from}, ${to}) is not a range of sequence numbers`);
    }
    if (!isAuditTime(request.generatedAt)) fail('generatedAt must be RFC 3339 UTC with milliseconds');
    this.filters = {
      tenant: request.filters?.tenant ?? null,
      actions: request.filters?.actions ? [...request.filters.actions] : null,
    };
    this.actions = this.filters.actions ? new Set(this.filters.actions) : null;
    this.position = from;
  }

  /** Whether an entry is shown (true) or summarised in an omitted run (false). */
  matches(entry: AuditEntry): boolean {
    if (this.filters.tenant !== null && entry.tenant !== this.filters.tenant) return false;
    if (this.actions !== null && !this.actions.has(entry.action)) return false;
    return true;
  }

  header(): string {
    if (this.phase !== 'start') fail('the header comes first, once');
    this.phase = 'preamble';
    const header: BundleHeaderLine = {
      type: 'header',
      format: AUDIT_BUNDLE_FORMAT,
      origin: this.request.origin,
      range: { from: this.request.from, to: this.request.to },
      filters: this.filters,
      since: this.request.since ?? null,
      generatedAt: this.request.generatedAt,
    };
    return line(header);
  }

  keyRotation(record: KeyRotationRecord): string {
    if (this.phase !== 'preamble') fail('key rotation records come between the header and the prefix');
    return line({ type: 'key_rotation', ...record });
  }

  /** The compact range of [0, from): `CompactRange(0)` over the leaves before the range, or stored subtrees. */
  prefix(hashes: readonly Buffer[]): string {
    if (this.phase !== 'preamble') fail('the prefix follows the header');
    const expected = rangeDecomposition(0, this.request.from).length;
    if (hashes.length !== expected) fail(`the prefix of ${this.request.from} leaves has ${expected} hashes`);
    this.phase = 'body';
    this.justAfterPrefix = true;
    return line({ type: 'prefix', treeSize: this.request.from, hashes: hashes.map(encodeHash) });
  }

  /**
   * The tenant's last entry before the range, with `path`, the hashes from its leaf up to the prefix
   * subtree that holds it (lowest first): in a bundle filtered by tenant alone it proves where the
   * tenant's counter stands when the range begins (docs/audit-format.md §7). Right after the prefix.
   */
  preceding(entry: AuditEntry, path: readonly Buffer[], leaf?: Buffer, stored?: string): string {
    assertAuditEntry(entry);
    if (!this.justAfterPrefix) fail('the tenant’s entry before the range comes right after the prefix');
    const tenant = this.filters.tenant;
    if (tenant === null || this.actions !== null) fail('only an export filtered by tenant alone has one');
    if (entry.tenant !== tenant || entry.tenantSeq === undefined || entry.seq >= this.request.from) {
      fail(`seq ${entry.seq} is not an entry of tenant ${tenant}, with its counter, before the range`);
    }
    const canonical = stored ?? canonicalJson(entry);
    const hash = leaf ?? leafHash(canonical);
    this.justAfterPrefix = false;
    return `{"type":"preceding","leafHash":${JSON.stringify(encodeHash(hash))},"path":${JSON.stringify(path.map(encodeHash))},"entry":${canonical}}\n`;
  }

  /**
   * Shows the entry if it matches the filters, otherwise adds it to the current omitted run. `stored`:
   * the entry's canonical JSON as the log holds it (what its leaf hash covers), when the caller has it —
   * then it is written as is instead of being rebuilt.
   */
  add(entry: AuditEntry, leaf?: Buffer, stored?: string): string {
    return this.matches(entry)
      ? this.entry(entry, leaf, stored)
      : this.omit(entry.seq, leaf ?? leafHash(canonicalJson(entry)));
  }

  entry(entry: AuditEntry, leaf?: Buffer, stored?: string): string {
    assertAuditEntry(entry);
    if (!this.matches(entry)) fail(`seq ${entry.seq} is outside the export's filters`);
    this.expectSeq(entry.seq);
    const canonical = stored ?? canonicalJson(entry);
    const hash = leaf ?? leafHash(canonical);
    const out = this.flushRun();
    this.position++;
    this.shown++;
    return `${out}{"type":"entry","leafHash":${JSON.stringify(encodeHash(hash))},"entry":${canonical}}\n`;
  }

  omit(seq: number, leaf: Buffer): string {
    if (this.filters.tenant === null && this.filters.actions === null) {
      fail('an export without filters shows every entry');
    }
    this.expectSeq(seq);
    this.run ??= new CompactRange(seq);
    this.run.appendLeaf(leaf);
    this.position++;
    this.omittedLeaves++;
    return '';
  }

  /**
   * Adds the positions [from, to) to the current omitted run at once, given the hashes of their compact
   * range (the stored subtrees that stand for them): the same line as omitting them one by one.
   */
  omitRange(from: number, to: number, hashes: readonly Buffer[]): string {
    if (this.filters.tenant === null && this.filters.actions === null) {
      fail('an export without filters shows every entry');
    }
    this.expectSeq(from);
    if (!(to > from && to <= this.request.to)) fail(`[${from}, ${to}) is not a run inside the range`);
    const refs = rangeDecomposition(from, to);
    if (refs.length !== hashes.length) fail(`[${from}, ${to}) has ${refs.length} compact-range hashes`);
    const run = (this.run ??= new CompactRange(from));
    refs.forEach((ref, i) => run.appendSubtree(ref.level, hashes[i]));
    this.position = to;
    this.omittedLeaves += to - from;
    return '';
  }

  /**
   * A checkpoint of size N ≤ to goes right after seq N−1; one beyond the range goes after the last entry
   * and needs `rangeProof`, the compact range [to, N).
   */
  checkpoint(cp: AuditCheckpoint, rangeProof?: readonly Buffer[]): string {
    if (this.phase !== 'body') fail('checkpoints follow the prefix');
    if (this.awaitingRangeProof !== null) fail('the previous checkpoint still needs its range proof');
    const problem = checkpointProblem(cp);
    if (problem !== null) fail(`checkpoint: ${problem}`);
    if (cp.origin !== this.request.origin) fail('the checkpoint belongs to another log');
    const cosignatures = readCosignatures(cp.cosignatures);
    if (typeof cosignatures === 'string') fail(`checkpoint: ${cosignatures}`);
    const { from, to } = this.request;
    const size = cp.treeSize;
    if (size < this.lastCheckpoint) fail('checkpoints come in increasing tree size');
    if (size < from) fail(`checkpoint ${size} precedes the range`);
    if (size <= to && size !== this.position) fail(`checkpoint ${size} belongs after seq ${size - 1}`);
    if (size > to && this.position !== to) fail(`checkpoint ${size} belongs after the last entry`);
    this.justAfterPrefix = false;
    let out = this.flushRun();
    out += line({ type: 'checkpoint', ...cp });
    this.lastCheckpoint = size;
    this.checkpoints++;
    if (size > to) {
      if (!rangeProof) fail(`checkpoint ${size} lies beyond the range and needs a range proof`);
      const expected = rangeDecomposition(to, size).length;
      if (rangeProof.length !== expected) fail(`the range proof [${to}, ${size}) has ${expected} hashes`);
      out += line({ type: 'range_proof', from: to, to: size, hashes: rangeProof.map(encodeHash) });
    }
    return out;
  }

  consistency(from: number, to: number, proof: readonly Buffer[]): string {
    if (this.phase !== 'body' || this.position !== this.request.to)
      fail('the consistency proof follows the entries');
    return line({ type: 'consistency', from, to, hashes: proof.map(encodeHash) });
  }

  trailer(): string {
    if (this.phase !== 'body') fail('the trailer ends a bundle that has a prefix');
    if (this.position !== this.request.to) fail(`entries ${this.position}… of the range are still to come`);
    const out = this.flushRun();
    this.phase = 'done';
    return (
      out +
      line({
        type: 'trailer',
        entries: this.shown,
        omitted: this.omittedLeaves,
        checkpoints: this.checkpoints,
      })
    );
  }

  private expectSeq(seq: number): void {
    if (this.phase !== 'body') fail('entries follow the prefix');
    this.justAfterPrefix = false;
    if (seq !== this.position) fail(`expected seq ${this.position}, got ${seq}`);
    if (seq >= this.request.to) fail(`seq ${seq} is outside [${this.request.from}, ${this.request.to})`);
  }

  private flushRun(): string {
    const run = this.run;
    if (!run) return '';
    this.run = null;
    return line({ type: 'omitted', from: run.begin, to: run.end, hashes: run.nodeHashes().map(encodeHash) });
  }
}
