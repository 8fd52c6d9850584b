import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { auditEntryProblem, auditTimeOrder, type AuditEntry } from './audit-entry';
import { canonicalJsonOfParsed, isCanonicalJsonBytes } from './canonical-json';
import { HASH_BYTES, leafHash } from './merkle';

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
  /** The entry's time as `auditTimeOrder` gives it (NaN when the entry is malformed). */
  time: number;
}

/** What a parsed entry says of itself: the seq it claims, why it is malformed (or null), what filters read. */
type EntryFields = Omit<EntryDigest, 'leaf' | 'hint'>;

function entryFields(entry: unknown): EntryFields {
  const claimed = (entry as { seq?: unknown } | null | undefined)?.seq;
  const seq = Number.isSafeInteger(claimed) && (claimed as number) >= 0 ? (claimed as number) : null;
  const problem = auditEntryProblem(entry);
  if (problem !== null) return { seq, problem, tenant: null, action: '', tenantSeq: null, time: NaN };
  const valid = entry as AuditEntry;
  return {
    seq,
    problem: null,
    tenant: valid.tenant,
    action: valid.action,
    tenantSeq: valid.tenantSeq ?? null,
    time: auditTimeOrder(valid.time),
  };
}

/**
 * The exact path: digests a parsed `entry` line whose text (without its line end) is `text`. The line
 * must be exactly what the exporter writes — `{"type":"entry","leafHash":"…","entry":` + the entry's
 * canonical JSON + `}` — because any other spelling (a member given twice, an escape, bytes that are
 * not UTF-8 and were decoded to U+FFFD) may be read one way by this verifier and another way by
 * whoever reads the bundle next. A line whose content no longer matches its leaf hash is reported as
 * altered rather than as misspelt, which is what happened to it.
 */
export function digestEntryLine(line: Record<string, unknown>, text: string): EntryDigest {
  return digestWrittenEntry(
    line,
    text,
    (leafHashText, canonical) => ENTRY_LINE_START + leafHashText + ENTRY_LINE_MIDDLE + canonical + '}',
  );
}

const ENTRY_LINE_START = '{"type":"entry","leafHash":';
const ENTRY_LINE_MIDDLE = ',"entry":';

/**
 * Digests a line that carries an entry (`entry`, or the tenant's entry before the range), which must be
 * written exactly as `layout` builds it from the stated leaf hash (as JSON text) and the entry's
 * canonical JSON.
 */
export function digestWrittenEntry(
  line: Record<string, unknown>,
  text: string,
  layout: (leafHashText: string, canonical: string) => string,
): EntryDigest {
  const fields = entryFields(line.entry);
  if (fields.problem !== null) return { ...fields, leaf: null, hint: HINT_ABSENT };
  let canonical: string;
  try {
    canonical = canonicalJsonOfParsed(line.entry);
  } catch (err) {
    return invalid(fields.seq, `no canonical form: ${(err as Error).message}`);
  }
  const leaf = leafHash(canonical);
  const stated = line.leafHash;
  if (typeof stated !== 'string') return invalid(fields.seq, 'the line has no leafHash');
  if (stated !== leaf.toString('base64')) return { ...fields, leaf, hint: HINT_MISMATCH };
  if (text !== layout(JSON.stringify(stated), canonical)) {
    return invalid(
      fields.seq,
      'the line is not written as the exporter writes it (each entry exactly in its canonical form, RFC 8785, ' +
        'in the layout of docs/audit-format.md §7): it was re-written since it was exported',
    );
  }
  return { ...fields, leaf, hint: HINT_MATCH };
}

function invalid(seq: number | null, problem: string): EntryDigest {
  return {
    seq,
    problem,
    leaf: null,
    hint: HINT_ABSENT,
    tenant: null,
    action: '',
    tenantSeq: null,
    time: NaN,
  };
}

/** Line kinds in a digested block. */
export const LINE_OTHER = 0;
export const LINE_ENTRY = 1;
export const LINE_BAD_ENTRY = 2;
/** A line whose bytes are not UTF-8: nothing in it is read (a decoder would make up characters). */
export const LINE_NOT_UTF8 = 3;

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
  /** The entries' times, as `auditTimeOrder` gives them. */
  times: Float64Array;
  hints: Uint8Array;
  /** 32 bytes per line. */
  leaves: Uint8Array;
  /** The raw line (LINE_OTHER) or why the entry is malformed (LINE_BAD_ENTRY); '' otherwise. */
  texts: string[];
  tenants: (string | null)[];
  actions: string[];
}

/**
 * How the exporter writes an entry line: this prefix, the leaf hash in base64 (44 characters), MIDDLE, the
 * entry's canonical JSON, then "}". For such a line the canonical bytes are already in hand, so the leaf
 * hash is taken over them directly instead of over a canonical form rebuilt from the parsed entry, which
 * is what the exact path (digestEntryLine) does and costs more than the rest of the digest together.
 */
const ENTRY_PREFIX = Buffer.from('{"type":"entry","leafHash":"', 'latin1');
const ENTRY_MIDDLE = Buffer.from('","entry":', 'latin1');
const BASE64_HASH = 44;
const ENTRY_BODY_START = ENTRY_PREFIX.length + BASE64_HASH + ENTRY_MIDDLE.length;
const CLOSE_BRACE = 0x7d;

/** Room for 0x00 || entry bytes; grown when an entry is larger. */
let leafInput = Buffer.alloc(64 * 1024);

/** Whether `buffer` holds `pattern` at `offset` (a loop: cheaper than Buffer#compare for a few bytes). */
function holdsAt(buffer: Buffer, offset: number, pattern: Buffer): boolean {
  for (let k = 0; k < pattern.length; k++) if (buffer[offset + k] !== pattern[k]) return false;
  return true;
}

/**
 * The digest of an entry line in the exporter's layout whose stated leaf hash matches the hash of the
 * entry's bytes as they stand and whose bytes are canonical JSON, written into `block` at `i` — or false,
 * and the exact path decides. Equivalent to digestEntryLine: the entry parsed here is the one a full
 * parse of the line yields (the layout around it is fixed and the hash is base64, so nothing escapes
 * it), and canonical bytes are what the exact path would rebuild and hash.
 */
function digestEntryBytes(
  buffer: Buffer,
  start: number,
  end: number,
  block: DigestBlock,
  leaves: Buffer,
  i: number,
): boolean {
  const bodyStart = start + ENTRY_BODY_START;
  const bodyEnd = end - 1;
  if (
    bodyEnd - bodyStart < 2 ||
    buffer[bodyEnd] !== CLOSE_BRACE ||
    !holdsAt(buffer, start, ENTRY_PREFIX) ||
    !holdsAt(buffer, bodyStart - ENTRY_MIDDLE.length, ENTRY_MIDDLE)
  ) {
    return false;
  }
  const size = bodyEnd - bodyStart + 1;
  if (leafInput.length < size) leafInput = Buffer.alloc(Math.max(size, 2 * leafInput.length));
  leafInput[0] = 0x00;
  buffer.copy(leafInput, 1, bodyStart, bodyEnd);
  const leaf = hash('sha256', leafInput.subarray(0, size), 'base64');
  const stated = start + ENTRY_PREFIX.length;
  if (leaf !== buffer.toString('latin1', stated, stated + BASE64_HASH)) return false;
  let entry: unknown;
  try {
    entry = JSON.parse(buffer.toString('utf8', bodyStart, bodyEnd));
  } catch {
    return false;
  }
  // The bytes must be the entry's canonical form, as the exact path demands: a signer could otherwise
  // sign bytes that parsers read differently (a member given twice, invalid UTF-8).
  if (!isCanonicalJsonBytes(buffer, bodyStart, bodyEnd)) return false;
  leaves.write(leaf, i * HASH_BYTES, HASH_BYTES, 'base64');
  putDigest(block, i, entryFields(entry), HINT_MATCH);
  return true;
}

/** Writes a line's digest into `block` at `i`, all but its leaf hash (the caller writes that). */
function putDigest(block: DigestBlock, i: number, digest: EntryFields, hint: HintState): void {
  block.seqs[i] = digest.seq ?? NaN;
  if (digest.problem !== null) {
    block.kinds[i] = LINE_BAD_ENTRY;
    block.texts[i] = digest.problem;
    return;
  }
  block.kinds[i] = LINE_ENTRY;
  block.hints[i] = hint;
  if (digest.tenantSeq !== null) block.tenantSeqs[i] = digest.tenantSeq;
  block.times[i] = digest.time;
  block.tenants[i] = digest.tenant;
  block.actions[i] = digest.action;
}

/** Digests any line the exact way: parse it, and for an entry line rebuild the canonical form. */
function digestLineText(raw: string, block: DigestBlock, i: number): void {
  // A "\r" before the line end is tolerated (a download re-saved with Windows line ends).
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  const line = parsed as Record<string, unknown> | null;
  if (typeof line !== 'object' || line === null || Array.isArray(line) || line.type !== 'entry') {
    block.texts[i] = raw;
    return;
  }
  const digest = digestEntryLine(line, text);
  putDigest(block, i, digest, digest.hint);
  if (digest.leaf !== null) block.leaves.set(digest.leaf, i * HASH_BYTES);
}

/**
 * Digests the "\n"-separated lines of `parts` (consecutive pieces of the bundle, each ending at a line
 * end except possibly the last one of the bundle).
 */
export function digestBlock(parts: readonly Uint8Array[]): DigestBlock {
  const buffers: Buffer[] = [];
  const owners: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  for (const part of parts) {
    const buffer = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    buffers.push(buffer);
    const owner = buffers.length - 1;
    let start = 0;
    let newline = buffer.indexOf(10);
    while (newline !== -1) {
      owners.push(owner);
      starts.push(start);
      ends.push(newline);
      start = newline + 1;
      newline = buffer.indexOf(10, start);
    }
    if (start < buffer.length) {
      owners.push(owner);
      starts.push(start);
      ends.push(buffer.length);
    }
  }
  const count = starts.length;
  const leaves = new Uint8Array(count * HASH_BYTES);
  const block: DigestBlock = {
    count,
    kinds: new Uint8Array(count),
    seqs: new Float64Array(count).fill(NaN),
    tenantSeqs: new Float64Array(count).fill(NaN),
    times: new Float64Array(count).fill(NaN),
    hints: new Uint8Array(count),
    leaves,
    texts: new Array<string>(count).fill(''),
    tenants: new Array<string | null>(count).fill(null),
    actions: new Array<string>(count).fill(''),
  };
  const leafBytes = Buffer.from(leaves.buffer, leaves.byteOffset, leaves.byteLength);
  for (let i = 0; i < count; i++) {
    const buffer = buffers[owners[i]];
    // The fast path accepts only UTF-8 (isCanonicalJsonBytes checks it), so only the other lines, few
    // in an export as written, need the check here.
    if (digestEntryBytes(buffer, starts[i], ends[i], block, leafBytes, i)) continue;
    if (!isUtf8(buffer.subarray(starts[i], ends[i]))) {
      block.kinds[i] = LINE_NOT_UTF8;
      continue;
    }
    digestLineText(buffer.toString('utf8', starts[i], ends[i]), block, i);
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
    time: block.times[i],
  };
}

/** The typed arrays' buffers, for postMessage's transfer list. */
export function digestBlockTransferables(block: DigestBlock): ArrayBuffer[] {
  return [block.kinds, block.seqs, block.tenantSeqs, block.times, block.hints, block.leaves].map(
    (a) => a.buffer as ArrayBuffer,
  );
}
