import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { ComplianceError } from '../compliance.errors';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) and their verifier keys ("vkeys"), as far as
 * witnessing needs them: a note is text ending in "\n", a blank line, and signature lines
 * `— <key name> base64(4-byte key ID || signature)`. A vkey `<name>+<hex key ID>+base64(type || key)`
 * names a key and its signature type; the key ID is SHA-256(name || "\n" || type || key)[:4].
 *
 * Two signature types are used: 0x01, the Ed25519 note signature the audit log signs its checkpoints
 * with, and 0x04, the timestamped Ed25519 cosignature of C2SP tlog-cosignature that witnesses add.
 */

export const NOTE_ED25519 = 0x01;
export const NOTE_COSIGNATURE_V1 = 0x04;

/** Key names (and checkpoint origins): non-empty, no Unicode white space, no "+". */
const KEY_NAME = /^[^\s+]+$/u;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The signature lines a note may carry here: enough for a log key and a generous set of witnesses. */
export const MAX_NOTE_SIGNATURES = 64;

export interface NoteVerifierKey {
  /** The key name, e.g. `witness.example/w1`, or a log's origin. */
  name: string;
  /** 4 bytes. */
  keyId: Buffer;
  /** NOTE_ED25519 or NOTE_COSIGNATURE_V1. */
  type: number;
  /** The raw 32-byte Ed25519 public key. */
  raw: Buffer;
  publicKey: KeyObject;
  /** The vkey text. */
  text: string;
}

export interface NoteSignature {
  name: string;
  /** The signature line's base64 blob: the key ID followed by the signature bytes. */
  signature: string;
}

export interface SignedNote {
  /** The signed text, ending in "\n" (without the blank line that follows it). */
  text: string;
  signatures: NoteSignature[];
}

/** Decodes base64 in its one canonical spelling (padding, no stray bits), or returns null. */
export function decodeStrictBase64(value: string): Buffer | null {
  if (!STRICT_BASE64.test(value)) return null;
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : null;
}

export function isKeyName(name: string): boolean {
  return KEY_NAME.test(name);
}

/** SHA-256(name || "\n" || type || raw key)[:4]. */
export function noteKeyId(name: string, type: number, raw: Buffer): Buffer {
  return createHash('sha256')
    .update(`${name}\n`, 'utf8')
    .update(Buffer.from([type]))
    .update(raw)
    .digest()
    .subarray(0, 4);
}

export function ed25519PublicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

/** The vkey of an Ed25519 key of the given signature type. */
export function formatVerifierKey(name: string, type: number, raw: Buffer): string {
  if (!isKeyName(name)) throw new ComplianceError('invalid_verifier_key', `"${name}" is not a key name`);
  const material = Buffer.concat([Buffer.from([type]), raw]).toString('base64');
  return `${name}+${noteKeyId(name, type, raw).toString('hex')}+${material}`;
}

/**
 * Reads a vkey, refusing anything that is not exactly one: a key ID that is not the key's own, a
 * signature type other than the ones given, a key that is not 32 bytes.
 */
export function parseVerifierKey(text: string, types: readonly number[]): NoteVerifierKey {
  const invalid = (why: string): never => {
    throw new ComplianceError(
      'invalid_verifier_key',
      `${JSON.stringify(text)} is not a verifier key: ${why}`,
    );
  };
  // The base64 of the key may itself contain "+": the name and the key ID cannot.
  const parts = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text);
  if (!parts) invalid('expected <name>+<hex key ID>+<base64 key>');
  const [, name, hex, material] = parts!;
  if (!isKeyName(name)) invalid('the name is empty or contains white space');
  if (!/^[0-9a-f]{8}$/.test(hex)) invalid('the key ID must be 8 lower-case hex digits');
  const bytes = decodeStrictBase64(material);
  if (!bytes || bytes.length === 0) invalid('the key is not base64');
  const [type, raw] = [bytes![0], bytes!.subarray(1)];
  if (!types.includes(type)) {
    const wanted = types.map((t) => `0x${t.toString(16).padStart(2, '0')}`).join(' or ');
    invalid(`its signature type is 0x${type.toString(16).padStart(2, '0')}, expected ${wanted}`);
  }
  if (raw.length !== 32) invalid('an Ed25519 key has 32 bytes');
  const keyId = noteKeyId(name, type, raw);
  if (keyId.toString('hex') !== hex) invalid('the key ID is not the one of this name and key');
  let publicKey: KeyObject;
  try {
    publicKey = ed25519PublicKeyFromRaw(raw);
  } catch {
    return invalid('not an Ed25519 public key');
  }
  return { name, keyId, type, raw: Buffer.from(raw), publicKey, text };
}

/** One signature line, "\n" included. */
export function formatSignatureLine(signature: NoteSignature): string {
  return `\u2014 ${signature.name} ${signature.signature}\n`;
}

export function formatSignedNote(text: string, signatures: readonly NoteSignature[]): string {
  return `${text}\n${signatures.map(formatSignatureLine).join('')}`;
}

/** Reads signature lines (each `— name base64`, each ending in "\n"); throws `invalid_signed_note`. */
export function parseSignatureLines(lines: string): NoteSignature[] {
  if (!lines.endsWith('\n')) throw noteError('signature lines end with a newline');
  const out: NoteSignature[] = [];
  for (const line of lines.slice(0, -1).split('\n')) {
    const match = /^\u2014 ([^ ]+) ([^ ]+)$/u.exec(line);
    if (!match || !isKeyName(match[1])) throw noteError(`not a signature line: ${JSON.stringify(line)}`);
    const blob = decodeStrictBase64(match[2]);
    if (!blob || blob.length < 5)
      throw noteError(`the signature of ${match[1]} is not base64 of a key ID and a signature`);
    out.push({ name: match[1], signature: match[2] });
  }
  if (out.length > MAX_NOTE_SIGNATURES) throw noteError(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  return out;
}

/**
 * Splits a signed note into its text and signature lines, checking the form the specification gives
 * (no control characters other than newline, the text separated from at least one signature line by
 * the last blank line). Verifies nothing. Whoever reads the note from bytes decodes them with a fatal
 * UTF-8 decoder (`decodeUtf8Strict`), so that invalid UTF-8 is refused rather than replaced.
 */
export function parseSignedNote(note: string): SignedNote {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000B-\u001F\u007F]/.test(note))
    throw noteError('a note has no control characters but newlines');
  const split = note.lastIndexOf('\n\n');
  if (split === -1) throw noteError('a note is text, a blank line and signature lines');
  const text = note.slice(0, split + 1);
  if (text.length <= 1) throw noteError('the note text is empty');
  return { text, signatures: parseSignatureLines(note.slice(split + 2)) };
}

/** The key ID (4 bytes) and the signature proper of a signature line's blob. */
export function splitSignature(signature: NoteSignature): { keyId: Buffer; bytes: Buffer } {
  const blob = Buffer.from(signature.signature, 'base64');
  return { keyId: blob.subarray(0, 4), bytes: blob.subarray(4) };
}

/** Whether a signature line is by this key: the name and the key ID both match (else it is ignored). */
export function signedBy(signature: NoteSignature, key: Pick<NoteVerifierKey, 'name' | 'keyId'>): boolean {
  return signature.name === key.name && splitSignature(signature).keyId.equals(key.keyId);
}

/** UTF-8 bytes to text, refusing invalid sequences (a lenient decoder would replace them with U+FFFD). */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw noteError('a note is valid UTF-8');
  }
}

function noteError(why: string): ComplianceError {
  return new ComplianceError('invalid_signed_note', why);
}
