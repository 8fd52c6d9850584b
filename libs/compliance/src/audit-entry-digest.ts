import { auditEntryProblem, type AuditEntry } from './audit-entry';
import { canonicalJsonOfParsed } from './canonical-json';
import { leafHash } from './merkle';

/**
 * What the verifier needs from one `entry` line: the claimed seq, the recomputed leaf hash, whether the
 * exporter's leaf hash agrees, and the fields the filters look at. Computing it is most of the
 * verification work and depends on nothing but the line, so it can run in a worker thread; the
 * verifier's decisions (order, filters, roots) stay in one place and are the same either way.
 */
export const HINT_ABSENT = 0;
export const HINT_MATCH = 1;
export const HINT_MISMATCH = 2;
export type HintState = typeof HINT_ABSENT | typeof HINT_MATCH | typeof HINT_MISMATCH;

export interface EntryDigest {
  /** The seq the line claims, when it has a usable one. */
  seq: number | null;
  /** Why the entry is malformed, or null. */
  problem: string | null;
  leaf: Buffer | null;
  hint: HintState;
  tenant: string | null;
  action: string;
  tenantSeq: number | null;
}

export function digestEntryLine(line: Record<string, unknown>): EntryDigest {
  const entry = line.entry;
  const claimed = (entry as { seq?: unknown } | null | undefined)?.seq;
  const seq = Number.isSafeInteger(claimed) && (claimed as number) >= 0 ? (claimed as number) : null;
  const problem = auditEntryProblem(entry);
  if (problem !== null) return invalid(seq, problem);
  const valid = entry as AuditEntry;
  let canonical: string;
  try {
    canonical = canonicalJsonOfParsed(valid);
  } catch (err) {
    return invalid(seq, `no canonical form: ${(err as Error).message}`);
  }
  const leaf = leafHash(canonical);
  const stated = line.leafHash;
  const hint =
    stated === undefined ? HINT_ABSENT : stated === leaf.toString('base64') ? HINT_MATCH : HINT_MISMATCH;
  return {
    seq,
    problem: null,
    leaf,
    hint,
    tenant: valid.tenant,
    action: valid.action,
    tenantSeq: valid.tenantSeq ?? null,
  };
}

function invalid(seq: number | null, problem: string): EntryDigest {
  return { seq, problem, leaf: null, hint: HINT_ABSENT, tenant: null, action: '', tenantSeq: null };
}

/** Line kinds in a digested block. */
export const LINE_OTHER = 0;
export const LINE_ENTRY = 1;
export const LINE_BAD_ENTRY = 2;

/**
 * The digests of a block of complete lines, packed into typed arrays so a worker thread can hand them
 * back without copying: `kinds[i]` says whether line i is an entry (its digest is in the arrays) or any
 * other line (its text is in `texts[i]`, for the verifier to read itself).
 */
export interface DigestBlock {
  count: number;
  kinds: Uint8Array;
  /** NaN when the line has no usable seq. */
  seqs: Float64Array;
  /** NaN when the entry has no tenantSeq. */
  tenantSeqs: Float64Array;
  hints: Uint8Array;
  /** 32 bytes per line. */
  leaves: Uint8Array;
  /** The raw line (LINE_OTHER) or why the entry is malformed (LINE_BAD_ENTRY); '' otherwise. */
  texts: string[];
  tenants: (string | null)[];
  actions: string[];
}

/**
 * Calls `onLine` with each "\n"-separated line of `parts` (consecutive pieces of a bundle, each ending at
 * a line end except possibly the last of the bundle), decoding each line as UTF-8 on its own; stops when
 * `onLine` returns false. 0x0A never occurs inside a multi-byte UTF-8 sequence, so cutting bytes is safe.
 */
export function forEachLine(parts: readonly Uint8Array[], onLine: (line: string) => boolean): boolean {
  for (const part of parts) {
    const buffer = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    let start = 0;
    let newline = buffer.indexOf(10);
    while (newline !== -1) {
      if (!onLine(buffer.toString('utf8', start, newline))) return false;
      start = newline + 1;
      newline = buffer.indexOf(10, start);
    }
    if (start < buffer.length && !onLine(buffer.toString('utf8', start))) return false;
  }
  return true;
}

/**
 * Digests the "\n"-separated lines of `parts` (consecutive pieces of the bundle, each ending at a line
 * end except possibly the last one of the bundle).
 */
export function digestBlock(parts: readonly Uint8Array[]): DigestBlock {
  const lines: string[] = [];
  forEachLine(parts, (line) => {
    lines.push(line);
    return true;
  });
  const count = lines.length;
  const block: DigestBlock = {
    count,
    kinds: new Uint8Array(count),
    seqs: new Float64Array(count).fill(NaN),
    tenantSeqs: new Float64Array(count).fill(NaN),
    hints: new Uint8Array(count),
    leaves: new Uint8Array(count * 32),
    texts: new Array<string>(count).fill(''),
    tenants: new Array<string | null>(count).fill(null),
    actions: new Array<string>(count).fill(''),
  };
  for (let i = 0; i < count; i++) {
    const text = lines[i];
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const line = parsed as Record<string, unknown> | null;
    if (typeof line !== 'object' || line === null || Array.isArray(line) || line.type !== 'entry') {
      block.texts[i] = text;
      continue;
    }
    const digest = digestEntryLine(line);
    if (digest.seq !== null) block.seqs[i] = digest.seq;
    if (digest.problem !== null || digest.leaf === null) {
      block.kinds[i] = LINE_BAD_ENTRY;
      block.texts[i] = digest.problem ?? 'no leaf';
      continue;
    }
    block.kinds[i] = LINE_ENTRY;
    block.hints[i] = digest.hint;
    block.leaves.set(digest.leaf, i * 32);
    if (digest.tenantSeq !== null) block.tenantSeqs[i] = digest.tenantSeq;
    block.tenants[i] = digest.tenant;
    block.actions[i] = digest.action;
  }
  return block;
}

/** Digest i of a block, as digestEntryLine would have returned it. */
export function blockDigest(block: DigestBlock, i: number): EntryDigest {
  const seq = Number.isNaN(block.seqs[i]) ? null : block.seqs[i];
  if (block.kinds[i] === LINE_BAD_ENTRY) return invalid(seq, block.texts[i]);
  const tenantSeq = Number.isNaN(block.tenantSeqs[i]) ? null : block.tenantSeqs[i];
  return {
    seq,
    problem: null,
    leaf: Buffer.from(block.leaves.buffer, block.leaves.byteOffset + i * 32, 32),
    hint: block.hints[i] as HintState,
    tenant: block.tenants[i],
    action: block.actions[i],
    tenantSeq,
  };
}

/** The typed arrays' buffers, for postMessage's transfer list. */
export function digestBlockTransferables(block: DigestBlock): ArrayBuffer[] {
  return [block.kinds, block.seqs, block.tenantSeqs, block.hints, block.leaves].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
