import { ComplianceError } from '../compliance.errors';
import { HASH_BYTES } from '../merkle';
import { decodeStrictBase64, isKeyName } from './signed-note';

/**
 * The wire format of C2SP tlog-witness's `add-checkpoint` (https://c2sp.org/tlog-witness), both sides:
 * the request body is `old <size>\n`, one base64 consistency-proof hash per line (at most 63), a blank
 * line and the signed checkpoint; a 409 answers the witness's own size as `<size>\n` in
 * `text/x.tlog.size`; a 200 answers cosignature lines. And the checkpoint's note text itself
 * (https://c2sp.org/tlog-checkpoint): origin, tree size, base64 root hash, then extension lines.
 */

export const ADD_CHECKPOINT_PATH = 'add-checkpoint';
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';
export const MAX_PROOF_LINES = 63;

export interface CheckpointText {
  origin: string;
  treeSize: number;
  rootHash: Buffer;
}

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Buffer[];
  /** The signed checkpoint: note text, blank line, signature lines. */
  note: string;
}

const SIZE = /^(0|[1-9][0-9]{0,15})$/;

/** A tree size in decimal without leading zeros, or null. */
export function parseTreeSize(text: string): number | null {
  if (!SIZE.test(text)) return null;
  const size = Number(text);
  return Number.isSafeInteger(size) ? size : null;
}

/** Reads a checkpoint's note text (ending in "\n"); throws `invalid_checkpoint`. */
export function parseCheckpointText(text: string): CheckpointText {
  const invalid = (why: string): never => {
    throw new ComplianceError('invalid_checkpoint', why);
  };
  if (!text.endsWith('\n')) invalid('the checkpoint text ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) invalid('a checkpoint has an origin, a tree size and a root hash');
  const [origin, size, root, ...extensions] = lines;
  if (!isKeyName(origin)) invalid('the origin is empty or contains white space or "+"');
  const treeSize = parseTreeSize(size);
  if (treeSize === null) invalid('the tree size is not a decimal number without leading zeros');
  const rootHash = decodeStrictBase64(root);
  if (!rootHash || rootHash.length !== HASH_BYTES) invalid('the root hash is not the base64 of 32 bytes');
  if (extensions.some((line) => line.length === 0)) invalid('extension lines are not empty');
  return { origin, treeSize: treeSize as number, rootHash: rootHash as Buffer };
}

export function formatAddCheckpoint(request: AddCheckpointRequest): string {
  const proof = request.proof.map((hash) => `${hash.toString('base64')}\n`).join('');
  return `old ${request.oldSize}\n${proof}\n${request.note}`;
}

/** Reads an add-checkpoint body; throws `invalid_signed_note` naming what is wrong (an HTTP 400). */
export function parseAddCheckpoint(body: string): AddCheckpointRequest {
  const invalid = (why: string): never => {
    throw new ComplianceError('invalid_signed_note', why);
  };
  const blank = body.indexOf('\n\n');
  if (blank === -1) invalid('expected "old <size>", proof lines, a blank line and the checkpoint');
  const [first, ...proofLines] = body.slice(0, blank).split('\n');
  const oldSize = first.startsWith('old ') ? parseTreeSize(first.slice(4)) : null;
  if (oldSize === null) invalid('the first line must be "old <size>", the size in decimal');
  if (proofLines.length > MAX_PROOF_LINES) invalid(`at most ${MAX_PROOF_LINES} proof lines`);
  const proof = proofLines.map((line) => {
    const hash = decodeStrictBase64(line);
    return hash && hash.length === HASH_BYTES
      ? hash
      : invalid('every proof line is the base64 of a 32-byte hash');
  });
  return { oldSize: oldSize as number, proof, note: body.slice(blank + 2) };
}

/** The body of a 409: the witness's size. */
export function formatTreeSizeBody(size: number): string {
  return `${size}\n`;
}

export function parseTreeSizeBody(body: string): number | null {
  return body.endsWith('\n') ? parseTreeSize(body.slice(0, -1)) : null;
}
