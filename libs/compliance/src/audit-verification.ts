import { auditTimeOrder, isAuditTime } from './audit-entry';
import {
  blockDigest,
  digestEntryLine,
  digestWrittenEntry,
  HINT_MISMATCH,
  LINE_NOT_UTF8,
  LINE_OTHER,
  type DigestBlock,
  type EntryDigest,
} from './audit-entry-digest';
import {
  AuditKeyring,
  decodeSignature,
  describeWindow,
  keyValidAt,
  type KeyRotationRecord,
} from './audit-keys';
import { AUDIT_BUNDLE_FORMAT, type AuditBundleFilters } from './audit-bundle';
import { checkpointProblem, decodeHash, verifyCheckpointSignature, type AuditCheckpoint } from './checkpoint';
import {
  CompactRange,
  holdingSubtree,
  rangeDecomposition,
  rootFromSubtreePath,
  verifyConsistency,
} from './merkle';
import { repeatedMemberName } from './strict-json';

/**
 * The verification of one bundle as a state machine over its lines, in order: what docs/audit-format.md
 * §8 specifies, step by step. It keeps O(log n) state (the Merkle frontier of the entries so far, the
 * current run of checkpoints, the verified roots by size) and stops at the FIRST problem, naming the
 * sequence number or checkpoint where it is. Feeding it — reading, splitting, digesting lines, possibly
 * in worker threads — is audit-bundle-verifier.ts's job.
 */

/** The closed set of reasons a bundle fails verification. */
export const AUDIT_FAILURE_REASONS = [
  'altered',
  'missing',
  'inserted',
  'reordered',
  'truncated',
  'unknown_key',
  'bad_signature',
  'fork',
  'backdated',
  'inconsistent',
  'malformed',
  'unwitnessed',
] as const;
export type AuditFailureReason = (typeof AUDIT_FAILURE_REASONS)[number];

export interface AuditVerificationFailure {
  ok: false;
  reason: AuditFailureReason;
  /** One sentence saying what is wrong. */
  message: string;
  /** The sequence number where the problem is. */
  seq?: number;
  /** The tree size of the checkpoint concerned. */
  checkpoint?: number;
  /** The key concerned (key problems). */
  keyId?: string;
  /** 1-based line of the bundle where the problem was found. */
  line?: number;
}

export interface AuditVerificationSummary {
  origin: string;
  from: number;
  to: number;
  filters: AuditBundleFilters;
  /** Entries shown in the bundle. */
  entries: number;
  /** Entries outside the filters, proven by hashes only. */
  omitted: number;
  checkpoints: number;
  newestCheckpoint: Omit<AuditCheckpoint, 'signature' | 'origin'> | null;
  /** Ids of the keys whose signatures were checked. */
  keyIds: string[];
  /** The earlier checkpoint this bundle was shown consistent with (`--since`). */
  since: { treeSize: number; rootHash: string } | null;
  /**
   * Every verified checkpoint line of the newest tree size, with the witnesses' cosignatures it carries
   * as the bundle gave them: `checkWitnessPolicy` (witness/witness-policy.ts) checks those.
   */
  newestCheckpoints: CosignedCheckpointLine[];
}

/** A checkpoint line as verified, and its `cosignatures` member unchecked (undefined when absent). */
export interface CosignedCheckpointLine {
  checkpoint: AuditCheckpoint;
  cosignatures: unknown;
}

export type AuditVerificationResult =
  { ok: true; summary: AuditVerificationSummary } | AuditVerificationFailure;

/** Thrown inside the verifier to stop at the first failure. */
class Stop {
  constructor(readonly failure: AuditVerificationFailure) {}
}

type Failure = Omit<AuditVerificationFailure, 'ok' | 'line'>;

interface GroupMember {
  cp: AuditCheckpoint;
  cosignatures: unknown;
  root: Buffer;
  /** The root recomputed from the leaves (and range proof); null while the range proof is awaited. */
  expected: Buffer | null;
}

/** Consecutive checkpoint lines of one tree size (the same tree head signed again, or a fork). */
interface CheckpointGroup {
  size: number;
  members: GroupMember[];
}

interface SinceCheckpoint {
  cp: AuditCheckpoint;
  root: Buffer;
  proven: boolean;
}

/**
 * Something was out of place at position `expected`. What it was (an entry missing, entries swapped,
 * an entry inserted, the tail cut) depends on what comes later, so the verifier reads on — keeping two
 * numbers, not the lines — before it names the problem.
 */
class Lookahead {
  private sawExpected = false;
  private sawSubjectAgain = false;
  private sawLater = false;

  constructor(
    private readonly expected: number,
    private readonly subject:
      | { kind: 'entry'; seq: number; line: number }
      | { kind: 'omitted'; from: number; line: number }
      | { kind: 'checkpoint'; size: number; line: number },
  ) {}

  observe(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const record = value as { type?: unknown; entry?: { seq?: unknown }; from?: unknown; to?: unknown };
    if (record.type === 'entry') {
      const seq = record.entry?.seq;
      if (typeof seq === 'number') this.observeEntry(seq);
    } else if (
      record.type === 'omitted' &&
      typeof record.from === 'number' &&
      typeof record.to === 'number'
    ) {
      if (record.from <= this.expected && this.expected < record.to) this.sawExpected = true;
      if (record.from > this.expected) this.sawLater = true;
    }
  }

  observeEntry(seq: number): void {
    if (seq === this.expected) this.sawExpected = true;
    if (seq > this.expected) this.sawLater = true;
    if (this.subject.kind === 'entry' && seq === this.subject.seq) this.sawSubjectAgain = true;
  }

  verdict(): AuditVerificationFailure {
    const e = this.expected;
    const s = this.subject;
    if (s.kind === 'checkpoint') {
      if (this.sawExpected) {
        return failure(s.line, {
          reason: 'reordered',
          checkpoint: s.size,
          seq: e,
          message: `checkpoint ${s.size} appears before seq ${e}, which comes later in the bundle`,
        });
      }
      if (this.sawLater) {
        return failure(s.line, {
          reason: 'missing',
          seq: e,
          message: `seq ${e} to ${s.size - 1} are missing`,
        });
      }
      return failure(s.line, {
        reason: 'truncated',
        seq: e,
        message: cutOff(e),
      });
    }
    const found = s.kind === 'entry' ? s.seq : s.from;
    if (s.kind === 'entry' && this.sawSubjectAgain) {
      return failure(s.line, {
        reason: 'inserted',
        seq: found,
        message: `an extra entry claiming seq ${found} was inserted before seq ${e}`,
      });
    }
    if (this.sawExpected) {
      return failure(s.line, {
        reason: 'reordered',
        seq: e,
        message: `seq ${found} appears where seq ${e} belongs; seq ${e} comes later in the bundle`,
      });
    }
    return failure(s.line, {
      reason: 'missing',
      seq: e,
      message: `seq ${e} is missing (next is seq ${found})`,
    });
  }
}

function cutOff(e: number): string {
  return `the bundle's entries stop before seq ${e}: everything from there on was cut off`;
}

function failure(line: number | undefined, f: Failure): AuditVerificationFailure {
  return { ok: false, ...f, ...(line !== undefined ? { line } : {}) };
}

/**
 * Whether `cp` carries a valid signature of a key `keyring` trusts, valid at the checkpoint's time: the
 * failure if not (`what` names the checkpoint in the message), else null.
 */
export function checkpointSignatureFailure(
  keyring: AuditKeyring,
  cp: AuditCheckpoint,
  what: string,
): Failure | null {
  const where = { checkpoint: cp.treeSize, keyId: cp.keyId };
  const key = keyring.get(cp.keyId);
  if (!key) {
    return {
      reason: 'unknown_key',
      ...where,
      message: `${what} is signed by ${keyring.whyUntrusted(cp.keyId)}`,
    };
  }
  if (!keyValidAt(key, Date.parse(cp.time))) {
    return {
      reason: 'unknown_key',
      ...where,
      message: `${what} is dated ${cp.time}, outside the validity ${describeWindow(key)} of key ${cp.keyId}`,
    };
  }
  if (!verifyCheckpointSignature(cp, key.publicKey)) {
    return {
      reason: 'bad_signature',
      ...where,
      message: `${what} does not carry a valid signature of key ${cp.keyId}`,
    };
  }
  return null;
}

/** Follows one key rotation record (§8 step 2) into `keyring`: the failure, or null. */
export function followRotationLine(keyring: AuditKeyring, r: unknown): Failure | null {
  if (
    !isRecord(r) ||
    !isAuditTime(r.time) ||
    typeof r.previousKeyId !== 'string' ||
    decodeSignature(r.signature) === null ||
    !isRecord(r.key)
  ) {
    return {
      reason: 'malformed',
      message:
        'a key rotation record needs time, previousKeyId, key and a signature spelled as §1 of the format says',
    };
  }
  const verdict = keyring.followRotation(r as unknown as KeyRotationRecord);
  return verdict.outcome === 'refused'
    ? { reason: verdict.reason, keyId: verdict.keyId, message: verdict.message }
    : null;
}

type Phase = 'header' | 'preamble' | 'body' | 'closed';

/** Throws on bytes that are not UTF-8 instead of replacing them with U+FFFD. */
const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const ORIGIN = /^[^\s+]{1,255}$/u;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

export class BundleVerification {
  private lineNo = 0;
  private phase: Phase = 'header';
  private origin = '';
  private from = 0;
  private to = 0;
  private filters: AuditBundleFilters = { tenant: null, actions: null };
  private actionFilter: ReadonlySet<string> | null = null;
  /** The Merkle frontier of the leaves [0, e); e is the next sequence number expected. */
  private frontier = new CompactRange(0);
  private rootCache: { size: number; root: Buffer } | null = null;
  private shown = 0;
  private omittedLeaves = 0;
  private checkpointLines = 0;
  private group: CheckpointGroup | null = null;
  private awaitingRangeProof: GroupMember | null = null;
  private lastCheckpointSize = -1;
  private readonly verifiedRoots = new Map<number, Buffer>();
  private newest: AuditCheckpoint | null = null;
  private newestGroup: readonly GroupMember[] = [];
  private readonly keysUsed = new Set<string>();
  private readonly since: SinceCheckpoint | null;
  private lastTenantSeq: number | null = null;
  /** The prefix's hashes: what the tenant's entry before the range is proven against. */
  private prefixHashes: Buffer[] = [];
  /** Only right after the prefix may the tenant's entry before the range come. */
  private precedingAllowed = false;
  /** The latest time of an entry so far (`auditTimeOrder`), and its seq: every checkpoint after it covers it. */
  private latestEntryTime = -Infinity;
  private latestEntrySeq = -1;
  /** The latest checkpoint smaller than the current run's: its time (and `auditTimeOrder` of it). */
  private checkpointTimeFloor: { order: number; time: string; size: number } | null = null;
  private lookahead: Lookahead | null = null;
  private failed: AuditVerificationFailure | null = null;

  constructor(
    private readonly keyring: AuditKeyring,
    since: AuditCheckpoint | null,
  ) {
    const root = since ? decodeHash(since.rootHash) : null;
    this.since = since && root ? { cp: since, root, proven: false } : null;
    if (since && !root) {
      this.failed = failure(undefined, {
        reason: 'malformed',
        checkpoint: since.treeSize,
        message: 'the --since checkpoint has no valid root hash',
      });
    }
  }

  private get expected(): number {
    return this.frontier.end;
  }

  /**
   * Takes one line and digests it the exact way (parse, canonicalise, hash): the reference that the
   * block path (digestBlock, then feedBlock) must agree with. False once the verdict is known.
   */
  feedLine(raw: string): boolean {
    if (this.failed) return false;
    this.lineNo++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.lookahead) {
      this.lookahead.observe(text);
      return true;
    }
    if (text.length === 0) return true;
    return this.untilStopped(() => this.handle(text));
  }

  /**
   * `feedLine` for a line as bytes (without its "\n"), decoded as UTF-8 that refuses what is not: the
   * reference for the block path, which reads bytes too.
   */
  feedLineBytes(bytes: Uint8Array): boolean {
    let text: string;
    try {
      text = FATAL_UTF8.decode(bytes);
    } catch {
      if (this.failed) return false;
      this.lineNo++;
      return this.lookahead !== null || this.untilStopped(() => this.notUtf8());
    }
    return this.feedLine(text);
  }

  /** Runs one step of verification; a Stop records the verdict. False once the verdict is known. */
  private untilStopped(step: () => void): boolean {
    try {
      step();
    } catch (err) {
      if (!(err instanceof Stop)) throw err;
      this.failed = err.failure;
    }
    return !this.failed;
  }

  /** Takes a block of lines digested elsewhere (digestBlock); false once the verdict is known. */
  feedBlock(block: DigestBlock): boolean {
    for (let i = 0; i < block.count; i++) {
      if (this.failed) return false;
      if (block.kinds[i] === LINE_OTHER) {
        this.feedLine(block.texts[i]);
        continue;
      }
      this.lineNo++;
      if (block.kinds[i] === LINE_NOT_UTF8) {
        if (!this.lookahead && !this.untilStopped(() => this.notUtf8())) return false;
        continue;
      }
      if (this.lookahead) {
        const seq = block.seqs[i];
        if (!Number.isNaN(seq)) this.lookahead.observeEntry(seq);
        continue;
      }
      if (!this.untilStopped(() => this.onEntryDigest(blockDigest(block, i)))) return false;
    }
    return !this.failed;
  }

  finish(): AuditVerificationResult {
    if (this.lookahead) return this.lookahead.verdict();
    if (this.failed) return this.failed;
    try {
      if (this.phase === 'header') this.stop({ reason: 'malformed', message: 'the bundle is empty' }, false);
      if (this.phase === 'preamble') {
        this.stop({ reason: 'truncated', message: 'the bundle ends before its prefix line: it was cut off' });
      }
      if (this.phase !== 'closed') {
        if (this.phase === 'body') this.closeGroup();
        if (this.expected < this.to) {
          this.stop({
            reason: 'truncated',
            seq: this.expected,
            message: cutOff(this.expected),
          });
        }
        this.stop({
          reason: 'truncated',
          ...(this.newest ? { checkpoint: this.newest.treeSize } : {}),
          message: 'the bundle ends without its trailer line: its end was cut off',
        });
      }
    } catch (err) {
      if (err instanceof Stop) return err.failure;
      throw err;
    }
    return { ok: true, summary: this.summary() };
  }

  private summary(): AuditVerificationSummary {
    const newest = this.newest;
    return {
      origin: this.origin,
      from: this.from,
      to: this.to,
      filters: this.filters,
      entries: this.shown,
      omitted: this.omittedLeaves,
      checkpoints: this.checkpointLines,
      newestCheckpoint: newest
        ? { treeSize: newest.treeSize, rootHash: newest.rootHash, time: newest.time, keyId: newest.keyId }
        : null,
      keyIds: [...this.keysUsed],
      since: this.since ? { treeSize: this.since.cp.treeSize, rootHash: this.since.cp.rootHash } : null,
      newestCheckpoints: this.newestGroup.map((m) => ({ checkpoint: m.cp, cosignatures: m.cosignatures })),
    };
  }

  private stop(f: Failure, withLine = true): never {
    throw new Stop(failure(withLine ? this.lineNo : undefined, f));
  }

  private malformed(message: string, where: { seq?: number; checkpoint?: number } = {}): never {
    this.stop({ reason: 'malformed', ...where, message });
  }

  private notUtf8(): never {
    this.malformed(
      `line ${this.lineNo} is not valid UTF-8: a reader that replaces such bytes would see characters that were never exported`,
    );
  }

  private handle(text: string): void {
    // Exports never start with a byte-order mark; one means the file was re-saved by another program.
    if (this.phase === 'header' && text.charCodeAt(0) === 0xfeff) {
      this.malformed(
        'the bundle starts with a UTF-8 byte-order mark, which exports never have: it was re-saved by another ' +
          'program since it was downloaded. Verify the file as downloaded (the mark is the first three bytes, EF BB BF)',
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.malformed(`line ${this.lineNo} is not JSON`);
    }
    if (!isRecord(value)) this.malformed(`line ${this.lineNo} is not a JSON object`);
    const type = value.type;
    // An entry line must be exactly the exporter's bytes, which digestEntryLine checks (a member given
    // twice is one way of not being them); any other line must at least not name a member twice.
    if (type === 'entry') return this.onEntryDigest(digestEntryLine(value, text));
    const repeated = repeatedMemberName(text);
    if (repeated !== null) {
      this.malformed(
        `line ${this.lineNo} names the member ${JSON.stringify(repeated)} twice in one object, which readers take differently`,
      );
    }
    if (type !== 'preceding') this.precedingAllowed = false;
    switch (this.phase) {
      case 'header':
        if (type !== 'header') this.malformed('the bundle does not start with a header line');
        return this.onHeader(value);
      case 'preamble':
        if (type === 'key_rotation') return this.onKeyRotation(value);
        if (type === 'prefix') return this.onPrefix(value);
        return this.malformed(`expected a key_rotation or prefix line, found "${String(type)}"`);
      case 'body':
        switch (type) {
          case 'preceding':
            return this.onPreceding(value, text);
          case 'omitted':
            return this.onOmitted(value);
          case 'checkpoint':
            return this.onCheckpoint(value);
          case 'range_proof':
            return this.onRangeProof(value);
          case 'consistency':
            return this.onConsistency(value);
          case 'trailer':
            return this.onTrailer(value);
          default:
            return this.malformed(`unexpected line type "${String(type)}"`);
        }
      case 'closed':
        return this.malformed('a line follows the trailer');
    }
  }

  // ---- preamble -------------------------------------------------------------------------------------

  private onHeader(h: Record<string, unknown>): void {
    if (h.format !== AUDIT_BUNDLE_FORMAT)
      this.malformed(`unsupported bundle format ${JSON.stringify(h.format)}`);
    if (typeof h.origin !== 'string' || !ORIGIN.test(h.origin))
      this.malformed('the header has no valid origin');
    const range = h.range as { from?: unknown; to?: unknown } | undefined;
    if (!isRecord(range) || !isCount(range.from) || !isCount(range.to) || range.to < range.from) {
      this.malformed('the header range must be {from, to} with 0 ≤ from ≤ to');
    }
    const filters = h.filters as { tenant?: unknown; actions?: unknown } | undefined;
    if (!isRecord(filters)) this.malformed('the header has no filters object');
    const tenant = filters.tenant ?? null;
    const actions = filters.actions ?? null;
    if (tenant !== null && (typeof tenant !== 'string' || tenant.length === 0))
      this.malformed('filters.tenant must be an id or null');
    if (
      actions !== null &&
      (!Array.isArray(actions) || !actions.every((a) => typeof a === 'string' && a.length > 0))
    ) {
      this.malformed('filters.actions must be a list of actions or null');
    }
    if (h.since !== undefined && h.since !== null && !isCount(h.since))
      this.malformed('header.since must be a tree size or null');
    if (!isAuditTime(h.generatedAt))
      this.malformed('header.generatedAt must be RFC 3339 UTC with milliseconds');
    this.origin = h.origin;
    this.from = range.from;
    this.to = range.to;
    this.filters = { tenant: tenant as string | null, actions: actions as string[] | null };
    this.actionFilter = actions ? new Set(actions as string[]) : null;
    if (this.since && this.since.cp.origin !== this.origin) {
      this.stop({
        reason: 'inconsistent',
        checkpoint: this.since.cp.treeSize,
        message: `the --since checkpoint is of log "${this.since.cp.origin}", this bundle of "${this.origin}"`,
      });
    }
    this.phase = 'preamble';
  }

  private onKeyRotation(r: Record<string, unknown>): void {
    const problem = followRotationLine(this.keyring, r);
    if (problem !== null) this.stop(problem);
  }

  private onPrefix(p: Record<string, unknown>): void {
    if (p.treeSize !== this.from) this.malformed(`the prefix must cover [0, ${this.from})`);
    const hashes = this.decodeHashes(p.hashes, 0, this.from, 'prefix');
    this.frontier = CompactRange.fromHashes(0, this.from, hashes);
    this.prefixHashes = hashes;
    this.precedingAllowed = true;
    this.phase = 'body';
    this.checkSinceSignature();
    this.checkSinceAtPosition();
  }

  private decodeHashes(value: unknown, begin: number, end: number, what: string): Buffer[] {
    const count = rangeDecomposition(begin, end).length;
    if (!Array.isArray(value) || value.length !== count) {
      this.malformed(`the ${what} for [${begin}, ${end}) must list ${count} hashes`);
    }
    return value.map(
      (item) => decodeHash(item) ?? this.malformed(`the ${what} holds a value that is not a base64 hash`),
    );
  }

  // ---- the --since checkpoint -------------------------------------------------------------------------

  private checkSinceSignature(): void {
    const since = this.since;
    if (!since) return;
    const size = since.cp.treeSize;
    const problem = checkpointProblem(since.cp);
    if (problem !== null) this.malformed(`the --since checkpoint: ${problem}`, { checkpoint: size });
    this.checkSignature(since.cp, 'the --since checkpoint');
  }

  /** When the frontier reaches the --since size, the root there must be the one the user holds. */
  private checkSinceAtPosition(): void {
    const since = this.since;
    if (!since || since.proven || since.cp.treeSize !== this.expected) return;
    if (!this.rootHere().equals(since.root)) {
      this.stop({
        reason: 'inconsistent',
        checkpoint: since.cp.treeSize,
        message: `the entries before seq ${since.cp.treeSize} do not produce the root of the --since checkpoint: history was rewritten`,
      });
    }
    since.proven = true;
  }

  private rootHere(): Buffer {
    const size = this.expected;
    if (this.rootCache?.size !== size) this.rootCache = { size, root: this.frontier.root() };
    return this.rootCache.root;
  }

  // ---- body -----------------------------------------------------------------------------------------

  private beforeSequenceLine(): void {
    if (this.awaitingRangeProof) this.missingRangeProof();
    this.closeGroup();
  }

  private missingRangeProof(): never {
    const size = this.awaitingRangeProof?.cp.treeSize;
    this.malformed(`checkpoint ${size} lies beyond the range and is not followed by its range_proof`, {
      checkpoint: size,
    });
  }

  /** An entry line, digested on this thread or in a worker. */
  private onEntryDigest(digest: EntryDigest): void {
    switch (this.phase) {
      case 'header':
        return this.malformed('the bundle does not start with a header line');
      case 'preamble':
        return this.malformed('expected a key_rotation or prefix line, found "entry"');
      case 'closed':
        if (digest.seq !== null) {
          this.stop({
            reason: 'inserted',
            seq: digest.seq,
            message: `an entry claiming seq ${digest.seq} follows the trailer`,
          });
        }
        return this.malformed('a line follows the trailer');
      case 'body':
        this.precedingAllowed = false;
        return this.acceptEntry(digest);
    }
  }

  private acceptEntry(digest: EntryDigest): void {
    this.beforeSequenceLine();
    const e = this.expected;
    if (digest.problem !== null || digest.leaf === null || digest.seq === null) {
      const seq = digest.seq ?? e;
      this.malformed(`the entry at seq ${seq} is malformed: ${digest.problem ?? 'no seq'}`, { seq });
    }
    const s = digest.seq;
    if (s < this.from || s >= this.to) {
      this.stop({
        reason: 'inserted',
        seq: s,
        message: `an entry claims seq ${s}, outside the exported range [${this.from}, ${this.to})`,
      });
    }
    if (digest.hint === HINT_MISMATCH) {
      this.stop({
        reason: 'altered',
        seq: e,
        message:
          s === e
            ? `entry ${s} was changed after export: it no longer matches its leaf hash`
            : `the entry at the position of seq ${e} (now claiming seq ${s}) was changed after export`,
      });
    }
    if (s < e) {
      this.stop({
        reason: 'inserted',
        seq: s,
        message: `seq ${s} appears a second time, after seq ${e - 1}`,
      });
    }
    if (s > e) {
      this.lookahead = new Lookahead(e, { kind: 'entry', seq: s, line: this.lineNo });
      return;
    }
    this.checkFilters(digest, s);
    this.frontier.appendLeaf(digest.leaf);
    this.shown++;
    this.noteEntryTime(digest.time, s);
    this.checkSinceAtPosition();
  }

  private noteEntryTime(time: number, seq: number): void {
    if (time > this.latestEntryTime) {
      this.latestEntryTime = time;
      this.latestEntrySeq = seq;
    }
  }

  private checkFilters(entry: EntryDigest, seq: number): void {
    const { tenant } = this.filters;
    if (tenant !== null && entry.tenant !== tenant) {
      this.malformed(`entry ${seq} is of another tenant than the export's filter`, { seq });
    }
    if (this.actionFilter !== null && !this.actionFilter.has(entry.action)) {
      this.malformed(`entry ${seq} has an action outside the export's filter`, { seq });
    }
    // With a tenant-only filter, the tenant's own counter shows whether one of its entries was hidden
    // among the omitted ones — before the first shown entry too: the counter starts at 0, or after the
    // tenant's entry before the range that the bundle proves (a `preceding` line). (With an action
    // filter, gaps are expected.)
    if (tenant !== null && this.actionFilter === null && entry.tenantSeq !== null) {
      const last = this.lastTenantSeq;
      const next = (last ?? -1) + 1;
      if (entry.tenantSeq > next) {
        this.stop({
          reason: 'missing',
          seq,
          message:
            last !== null || this.from === 0
              ? `tenant entries ${next}…${entry.tenantSeq - 1} are hidden before seq ${seq}`
              : `the first entry shown has tenant counter ${entry.tenantSeq}, and the bundle does not prove the tenant's entry ${entry.tenantSeq - 1} before the range: tenant entries may be hidden before seq ${seq}`,
        });
      }
      if (entry.tenantSeq < next) {
        this.malformed(`entry ${seq} repeats tenant counter ${entry.tenantSeq}`, { seq });
      }
      this.lastTenantSeq = entry.tenantSeq;
    }
  }

  /**
   * The tenant's last entry before the range, with the path from its leaf to the prefix subtree that
   * holds it: the counter the range's first tenant entry must continue (docs/audit-format.md §7).
   */
  private onPreceding(line: Record<string, unknown>, text: string): void {
    if (this.filters.tenant === null || this.actionFilter !== null) {
      this.malformed('only a bundle filtered by tenant alone has a preceding line');
    }
    if (!this.precedingAllowed) this.malformed('the preceding line must come right after the prefix');
    this.precedingAllowed = false;
    const path = line.path;
    const digest = digestWrittenEntry(
      line,
      text,
      (leafHash, canonical) =>
        `{"type":"preceding","leafHash":${leafHash},"path":${JSON.stringify(path)},"entry":${canonical}}`,
    );
    const seq = digest.seq ?? undefined;
    if (digest.problem !== null || digest.leaf === null || digest.seq === null) {
      this.malformed(`the tenant's entry before the range is malformed: ${digest.problem ?? 'no seq'}`, {
        seq,
      });
    }
    if (digest.hint === HINT_MISMATCH) {
      this.stop({
        reason: 'altered',
        seq: digest.seq,
        message: `the tenant's entry before the range (seq ${digest.seq}) no longer matches its leaf hash`,
      });
    }
    if (digest.seq >= this.from || digest.tenant !== this.filters.tenant || digest.tenantSeq === null) {
      this.malformed(
        `the preceding line must hold an entry of tenant ${this.filters.tenant} with a tenant counter, before seq ${this.from}`,
        { seq: digest.seq },
      );
    }
    // The perfect subtree of the prefix that holds the entry, and the path up to its root.
    const { position, ref } = holdingSubtree(this.from, digest.seq);
    if (!Array.isArray(path) || path.length !== ref.level) {
      this.malformed(`the path of the tenant's entry before the range must list ${ref.level} hashes`, {
        seq,
      });
    }
    const siblings = path.map(
      (h) => decodeHash(h) ?? this.malformed('the path holds a value that is not a base64 hash', { seq }),
    );
    const node = rootFromSubtreePath(digest.leaf, digest.seq, siblings);
    if (!node.equals(this.prefixHashes[position])) {
      this.stop({
        reason: 'altered',
        seq: digest.seq,
        message: `the tenant's entry before the range (seq ${digest.seq}) is not the one in the log: its path does not lead to the prefix`,
      });
    }
    this.lastTenantSeq = digest.tenantSeq;
    this.noteEntryTime(digest.time, digest.seq);
  }

  private onOmitted(line: Record<string, unknown>): void {
    this.beforeSequenceLine();
    const { from, to } = line;
    if (!isCount(from) || !isCount(to) || to <= from) this.malformed('an omitted line needs 0 ≤ from < to');
    if (from < this.from || to > this.to) {
      this.malformed(`omitted entries [${from}, ${to}) lie outside the exported range`, { seq: from });
    }
    const e = this.expected;
    if (from < e) {
      this.stop({
        reason: 'inserted',
        seq: from,
        message: `omitted entries [${from}, ${to}) overlap entries already seen`,
      });
    }
    if (from > e) {
      this.lookahead = new Lookahead(e, { kind: 'omitted', from, line: this.lineNo });
      return;
    }
    if (this.filters.tenant === null && this.filters.actions === null) {
      this.stop({
        reason: 'missing',
        seq: from,
        message: `entries ${from}…${to - 1} are withheld, though the export has no filter`,
      });
    }
    const hashes = this.decodeHashes(line.hashes, from, to, 'omitted line');
    const refs = rangeDecomposition(from, to);
    for (let i = 0; i < refs.length; i++) {
      this.frontier.appendSubtree(refs[i].level, hashes[i]);
      this.checkSinceAtPosition();
    }
    this.omittedLeaves += to - from;
  }

  private onCheckpoint(line: Record<string, unknown>): void {
    if (this.awaitingRangeProof) this.missingRangeProof();
    const problem = checkpointProblem(line);
    const claimed = isCount(line.treeSize) ? line.treeSize : undefined;
    if (problem !== null) this.malformed(`a checkpoint is malformed: ${problem}`, { checkpoint: claimed });
    const cp: AuditCheckpoint = {
      origin: line.origin as string,
      treeSize: line.treeSize as number,
      rootHash: line.rootHash as string,
      time: line.time as string,
      keyId: line.keyId as string,
      signature: line.signature as string,
    };
    const size = cp.treeSize;
    if (cp.origin !== this.origin)
      this.malformed(`checkpoint ${size} is of another log ("${cp.origin}")`, { checkpoint: size });
    this.checkSignature(cp, `checkpoint ${size}`);
    this.checkpointLines++;
    const root = decodeHash(cp.rootHash) as Buffer;

    // Two signed roots for one size is a fork, whatever else is wrong around them.
    const other = this.group?.size === size ? this.group.members[0].root : this.verifiedRoots.get(size);
    if (other && !other.equals(root)) {
      this.stop({
        reason: 'fork',
        checkpoint: size,
        message: `two checkpoints of tree size ${size} are signed with different roots`,
      });
    }
    const since = this.since;
    if (since && since.cp.treeSize === size && !since.root.equals(root)) {
      this.stop({
        reason: 'inconsistent',
        checkpoint: size,
        message: `checkpoint ${size} has another root than the --since checkpoint of the same size`,
      });
    }

    const member: GroupMember = { cp, cosignatures: line.cosignatures, root, expected: null };
    if (this.group?.size === size) {
      this.group.members.push(member);
    } else {
      this.closeGroup();
      this.placeCheckpoint(size);
      this.group = { size, members: [member] };
    }
    if (size <= this.to) member.expected = this.rootHere();
    else this.awaitingRangeProof = member;
    if (!this.lookahead) this.checkCheckpointTime(cp);
  }

  /**
   * A checkpoint says the tree had its size at its time: it cannot be dated before a smaller
   * checkpoint, before the --since checkpoint if it is larger (nor after it if smaller), nor before an
   * entry it covers.
   */
  private checkCheckpointTime(cp: AuditCheckpoint): void {
    const size = cp.treeSize;
    const order = auditTimeOrder(cp.time);
    const backdated = (message: string, seq?: number): never =>
      this.stop({ reason: 'backdated', checkpoint: size, ...(seq !== undefined ? { seq } : {}), message });
    const floor = this.checkpointTimeFloor;
    if (floor && order < floor.order) {
      backdated(
        `checkpoint ${size} is dated ${cp.time}, before the smaller checkpoint ${floor.size} (${floor.time}): a log's checkpoints never go back in time as it grows`,
      );
    }
    const since = this.since?.cp;
    if (since && since.treeSize !== size) {
      const sinceOrder = auditTimeOrder(since.time);
      if (size > since.treeSize ? order < sinceOrder : order > sinceOrder) {
        backdated(
          `checkpoint ${size} is dated ${cp.time} and the --since checkpoint ${since.treeSize} ${since.time}: a larger checkpoint cannot be older`,
        );
      }
    }
    if (order < this.latestEntryTime) {
      backdated(
        `checkpoint ${size} is dated ${cp.time}, before the time of entry ${this.latestEntrySeq}, which it covers`,
        this.latestEntrySeq,
      );
    }
  }

  /** A checkpoint of size N ≤ to belongs right after seq N−1; beyond `to`, after the last entry. */
  private placeCheckpoint(size: number): void {
    const e = this.expected;
    if (size < this.lastCheckpointSize || size < this.from) {
      this.stop({
        reason: 'reordered',
        checkpoint: size,
        message: `checkpoint ${size} appears after checkpoint ${this.lastCheckpointSize}`,
      });
    }
    const position = Math.min(size, this.to);
    if (position < e) {
      this.stop({
        reason: 'reordered',
        checkpoint: size,
        message: `checkpoint ${size} appears after seq ${e - 1}, but belongs after seq ${position - 1}`,
      });
    }
    if (position > e) this.lookahead = new Lookahead(e, { kind: 'checkpoint', size, line: this.lineNo });
  }

  private onRangeProof(line: Record<string, unknown>): void {
    const member = this.awaitingRangeProof;
    if (!member) this.malformed('a range_proof line must follow a checkpoint beyond the range');
    const size = member.cp.treeSize;
    if (line.from !== this.to || line.to !== size) {
      this.malformed(`the range proof of checkpoint ${size} must cover [${this.to}, ${size})`, {
        checkpoint: size,
      });
    }
    const hashes = this.decodeHashes(line.hashes, this.to, size, 'range proof');
    const extended = this.frontier.clone();
    rangeDecomposition(this.to, size).forEach((ref, i) => extended.appendSubtree(ref.level, hashes[i]));
    member.expected = extended.root();
    this.awaitingRangeProof = null;
  }

  /** The end of a run of checkpoint lines: every root must be the one the leaves produce. */
  private closeGroup(): void {
    const group = this.group;
    if (!group) return;
    for (const member of group.members) {
      if (!member.expected || !member.expected.equals(member.root)) {
        this.stop({
          reason: 'altered',
          checkpoint: group.size,
          message:
            group.size <= this.to
              ? `the entries up to seq ${group.size - 1} do not produce the root signed in checkpoint ${group.size}: an entry or hash before it was changed`
              : `the range proof of checkpoint ${group.size} does not produce its signed root`,
        });
      }
    }
    this.verifiedRoots.set(group.size, group.members[0].root);
    for (const member of group.members) {
      const order = auditTimeOrder(member.cp.time);
      if (!this.checkpointTimeFloor || order > this.checkpointTimeFloor.order) {
        this.checkpointTimeFloor = { order, time: member.cp.time, size: group.size };
      }
    }
    // An equal root of the same size (checked when the line was read) is consistency too.
    if (this.since?.cp.treeSize === group.size) this.since.proven = true;
    this.newest = group.members[group.members.length - 1].cp;
    this.newestGroup = group.members;
    this.lastCheckpointSize = group.size;
    this.group = null;
  }

  private checkSignature(cp: AuditCheckpoint, what: string): void {
    const problem = checkpointSignatureFailure(this.keyring, cp, what);
    if (problem !== null) this.stop(problem);
    this.keysUsed.add(cp.keyId);
  }

  private onConsistency(line: Record<string, unknown>): void {
    if (this.awaitingRangeProof) this.missingRangeProof();
    this.closeGroup();
    const { from, to } = line;
    if (!isCount(from) || !isCount(to) || from > to || !Array.isArray(line.hashes)) {
      this.malformed('a consistency line needs from ≤ to and a list of hashes');
    }
    const proof = line.hashes.map(
      (h) => decodeHash(h) ?? this.malformed('the consistency proof holds a value that is not a base64 hash'),
    );
    const since = this.since;
    if (!since || since.cp.treeSize !== from) return; // A proof from a size the user holds no checkpoint for proves nothing.
    const target = this.verifiedRoots.get(to);
    if (!target)
      this.malformed(
        `the consistency proof leads to tree size ${to}, for which the bundle has no checkpoint`,
      );
    if (!verifyConsistency(from, to, since.root, target, proof)) {
      this.stop({
        reason: 'inconsistent',
        checkpoint: from,
        message: `checkpoint ${to} is not an append-only extension of the --since checkpoint ${from}: history was rewritten`,
      });
    }
    since.proven = true;
  }

  private onTrailer(line: Record<string, unknown>): void {
    if (this.awaitingRangeProof) this.missingRangeProof();
    this.closeGroup();
    const e = this.expected;
    if (e < this.to) {
      this.stop({
        reason: 'truncated',
        seq: e,
        message: cutOff(e),
      });
    }
    const { entries, omitted, checkpoints } = line;
    if (!isCount(entries) || !isCount(omitted) || !isCount(checkpoints)) {
      this.malformed('the trailer must count entries, omitted entries and checkpoints');
    }
    if (checkpoints !== this.checkpointLines) {
      this.stop({
        reason: checkpoints > this.checkpointLines ? 'missing' : 'inserted',
        ...(this.newest ? { checkpoint: this.newest.treeSize } : {}),
        message: `the trailer counts ${checkpoints} checkpoints, the bundle has ${this.checkpointLines}`,
      });
    }
    if (entries !== this.shown || omitted !== this.omittedLeaves) {
      const fewer = entries !== this.shown ? this.shown < entries : this.omittedLeaves < omitted;
      this.stop({
        reason: fewer ? 'missing' : 'inserted',
        seq: this.to - 1,
        message: `the trailer counts ${entries} entries and ${omitted} omitted, the bundle has ${this.shown} and ${this.omittedLeaves}`,
      });
    }
    const newest = this.newest;
    if (this.to > this.from && (!newest || newest.treeSize < this.to)) {
      const uncovered = newest ? Math.max(newest.treeSize, this.from) : this.from;
      this.stop({
        reason: 'truncated',
        seq: uncovered,
        message: `no checkpoint covers the entries from seq ${uncovered} on: the checkpoint that did was removed`,
      });
    }
    const since = this.since;
    if (since && !since.proven) {
      const size = since.cp.treeSize;
      this.stop({
        reason: 'inconsistent',
        checkpoint: size,
        message:
          newest && size > newest.treeSize
            ? `the --since checkpoint (size ${size}) is newer than every checkpoint in the bundle (newest ${newest.treeSize}): the log cannot shrink`
            : `the bundle holds no proof that it extends the --since checkpoint of size ${size}`,
      });
    }
    this.phase = 'closed';
  }
}
