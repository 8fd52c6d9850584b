import { createHash, KeyObject, sign, verify } from 'node:crypto';
import { isAuditTime } from './audit-entry';
import { auditKeyId, decodeSignature, rawEd25519PublicKey, signWith, type AuditSigner } from './audit-keys';
import { ComplianceError } from './compliance.errors';
import { HASH_BYTES } from './merkle';
import { parseStrictJson } from './strict-json';

/**
 * Signed checkpoints (tree heads). The signed bytes are a C2SP tlog-checkpoint note text
 * (https://c2sp.org/tlog-checkpoint) with one extension line for the time:
 *
 *   <origin>\n
 *   <tree size in decimal>\n
 *   <base64 root hash>\n
 *   time <RFC 3339 UTC ms>\n
 *
 * so a checkpoint can also be handed to any signed-note tool (`checkpointNote`). The bundle carries it as
 * JSON with the same fields plus the key id and the bare 64-byte Ed25519 signature.
 */
export interface AuditCheckpoint {
  /** The log's identity, e.g. `townhall.example/audit`: no whitespace, no "+". */
  origin: string;
  treeSize: number;
  /** Base64 (RFC 4648 §4, padded) of the 32-byte RFC 6962 root of the first treeSize entries. */
  rootHash: string;
  /** RFC 3339 UTC ms; must lie within the signing key's validity window. */
  time: string;
  keyId: string;
  /** Base64 Ed25519 signature over checkpointSigningInput(). */
  signature: string;
  /**
   * Witnesses' cosignatures of this checkpoint (C2SP tlog-cosignature), when it has any: each the key
   * name and base64 blob of a note signature line (`— <name> <signature>`). Not covered by `signature`;
   * each verifies on its own against its witness's key (docs/audit-format.md §13).
   */
  cosignatures?: CheckpointCosignature[];
}

export interface CheckpointCosignature {
  name: string;
  signature: string;
}

export type UnsignedAuditCheckpoint = Omit<AuditCheckpoint, 'signature' | 'cosignatures'>;

const ORIGIN = /^[^\s+]{1,255}$/u;
const BASE64_HASH = /^[A-Za-z0-9+/]{43}=$/;

/** Decodes a strict base64 32-byte hash, or returns null. */
export function decodeHash(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !BASE64_HASH.test(value)) return null;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === HASH_BYTES && bytes.toString('base64') === value ? bytes : null;
}

export function encodeHash(hash: Buffer): string {
  return hash.toString('base64');
}

/** Why `value` is not a well-formed checkpoint (signature not checked), or null. */
export function checkpointProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'a checkpoint must be a JSON object';
  const cp = value as Partial<Record<keyof AuditCheckpoint, unknown>>;
  if (typeof cp.origin !== 'string' || !ORIGIN.test(cp.origin))
    return 'origin must be non-empty, without spaces or "+"';
  if (!Number.isSafeInteger(cp.treeSize) || (cp.treeSize as number) < 0)
    return 'treeSize must be a non-negative integer';
  if (decodeHash(cp.rootHash) === null) return 'rootHash must be the base64 of 32 bytes';
  if (!isAuditTime(cp.time)) return 'time must be RFC 3339 UTC with milliseconds';
  if (typeof cp.keyId !== 'string' || cp.keyId.length === 0) return 'keyId is missing';
  if (decodeSignature(cp.signature) === null) {
    return 'signature must be the base64 of a 64-byte Ed25519 signature, spelled as §1 of the format says';
  }
  return null;
}

/** The note text the signature covers (UTF-8). */
export function checkpointSigningInput(cp: UnsignedAuditCheckpoint): Buffer {
  return Buffer.from(`${cp.origin}\n${cp.treeSize}\n${cp.rootHash}\ntime ${cp.time}\n`, 'utf8');
}

export function signCheckpoint(
  input: Omit<UnsignedAuditCheckpoint, 'keyId' | 'rootHash'> & { rootHash: Buffer | string },
  privateKey: KeyObject,
): AuditCheckpoint {
  const unsigned = unsignedCheckpoint(input, privateKey);
  return checkedCheckpoint(
    unsigned,
    sign(null, checkpointSigningInput(unsigned), privateKey).toString('base64'),
  );
}

/** `signCheckpoint` with the key wherever it is held (a KMS, an HSM: see AuditSigner). */
export async function signCheckpointWith(
  input: Omit<UnsignedAuditCheckpoint, 'keyId' | 'rootHash'> & { rootHash: Buffer | string },
  signer: AuditSigner,
): Promise<AuditCheckpoint> {
  const unsigned = unsignedCheckpoint(input, signer.publicKey);
  return checkedCheckpoint(unsigned, await signWith(signer, checkpointSigningInput(unsigned)));
}

function unsignedCheckpoint(
  input: Omit<UnsignedAuditCheckpoint, 'keyId' | 'rootHash'> & { rootHash: Buffer | string },
  key: KeyObject,
): UnsignedAuditCheckpoint {
  return {
    origin: input.origin,
    treeSize: input.treeSize,
    rootHash: typeof input.rootHash === 'string' ? input.rootHash : encodeHash(input.rootHash),
    time: input.time,
    keyId: auditKeyId(key),
  };
}

function checkedCheckpoint(unsigned: UnsignedAuditCheckpoint, signature: string): AuditCheckpoint {
  const cp = { ...unsigned, signature };
  const problem = checkpointProblem(cp);
  if (problem !== null) throw new ComplianceError('invalid_checkpoint', problem);
  return cp;
}

export function verifyCheckpointSignature(cp: AuditCheckpoint, publicKey: KeyObject): boolean {
  const signature = decodeSignature(cp.signature);
  if (signature === null) return false;
  try {
    return verify(null, checkpointSigningInput(cp), publicKey, signature);
  } catch {
    return false;
  }
}

/** Reads a checkpoint from JSON text (a bundle's checkpoint line or the bare object). */
export function parseCheckpoint(text: string): AuditCheckpoint {
  const read = parseStrictJson(text);
  if ('problem' in read) throw new ComplianceError('invalid_checkpoint', read.problem);
  const parsed = read.value;
  const problem = checkpointProblem(parsed);
  if (problem !== null) throw new ComplianceError('invalid_checkpoint', problem);
  const cp = parsed as AuditCheckpoint;
  return {
    origin: cp.origin,
    treeSize: cp.treeSize,
    rootHash: cp.rootHash,
    time: cp.time,
    keyId: cp.keyId,
    signature: cp.signature,
  };
}

/**
 * The checkpoint as a complete C2SP signed note, signed under the origin as key name with the
 * signed-note key ID SHA-256(origin || 0x0A || 0x01 || public key)[:4]. Tools that speak signed notes
 * (Go's golang.org/x/mod/sumdb/note, witnesses) can verify it with the verifier key `noteVerifierKey`.
 */
export function checkpointNote(cp: AuditCheckpoint, publicKey: KeyObject): string {
  const keyHash = noteKeyHash(cp.origin, publicKey);
  const blob = Buffer.concat([keyHash, Buffer.from(cp.signature, 'base64')]).toString('base64');
  return `${checkpointSigningInput(cp).toString('utf8')}\n\u2014 ${cp.origin} ${blob}\n`;
}

/** `<name>+<hex key ID>+<base64(0x01 || public key)>`: the signed-note verifier key string. */
export function noteVerifierKey(origin: string, publicKey: KeyObject): string {
  const raw = rawEd25519PublicKey(publicKey);
  const encoded = Buffer.concat([Buffer.from([0x01]), raw]).toString('base64');
  return `${origin}+${noteKeyHash(origin, publicKey).toString('hex')}+${encoded}`;
}

function noteKeyHash(origin: string, publicKey: KeyObject): Buffer {
  return createHash('sha256')
    .update(`${origin}\n`, 'utf8')
    .update(Buffer.from([0x01]))
    .update(rawEd25519PublicKey(publicKey))
    .digest()
    .subarray(0, 4);
}
