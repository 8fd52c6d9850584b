import { sign, verify, type KeyObject } from 'node:crypto';
import { rawEd25519PublicKey } from '../audit-keys';
import {
  NOTE_COSIGNATURE_V1,
  noteKeyId,
  parseVerifierKey,
  signedBy,
  splitSignature,
  type NoteSignature,
  type NoteVerifierKey,
} from './signed-note';

/**
 * Ed25519 checkpoint cosignatures (https://c2sp.org/tlog-cosignature, `cosignature/v1`): a witness's
 * note signature over a checkpoint, stating that as of `timestamp` this was the largest tree consistent
 * with everything it had seen of that log. The signature line's blob is
 * key ID (4) || timestamp (8, big-endian POSIX seconds) || Ed25519 signature (64), and the signed
 * message is `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's note text — its
 * extension lines (the audit log's `time` line) included.
 */

const HEADER = 'cosignature/v1\n';
const BLOB_BYTES = 4 + 8 + 64;

/** A witness's vkey: `<name>+<key ID>+base64(0x04 || Ed25519 key)`. */
export function parseCosignerKey(text: string): NoteVerifierKey {
  return parseVerifierKey(text, [NOTE_COSIGNATURE_V1]);
}

export function cosignatureMessage(noteText: string, timestamp: number): Buffer {
  return Buffer.from(`${HEADER}time ${timestamp}\n${noteText}`, 'utf8');
}

/** Cosigns a checkpoint's note text as the witness `name`, at `timestamp` (POSIX seconds, > 0). */
export function cosign(
  noteText: string,
  name: string,
  privateKey: KeyObject,
  timestamp: number,
): NoteSignature {
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) throw new Error('a cosignature needs a timestamp');
  const keyId = noteKeyId(name, NOTE_COSIGNATURE_V1, rawEd25519PublicKey(privateKey));
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(timestamp));
  const signature = sign(null, cosignatureMessage(noteText, timestamp), privateKey);
  return { name, signature: Buffer.concat([keyId, time, signature]).toString('base64') };
}

export type CosignatureCheck =
  | { status: 'valid'; timestamp: number }
  /** Signed-note rules: a signature whose name and key ID are not this key's is ignored. */
  | { status: 'other_key' }
  | { status: 'invalid'; why: string };

/** Checks one signature line of a checkpoint as a cosignature by `key`. */
export function checkCosignature(
  noteText: string,
  signature: NoteSignature,
  key: NoteVerifierKey,
): CosignatureCheck {
  if (!signedBy(signature, key)) return { status: 'other_key' };
  const { bytes } = splitSignature(signature);
  if (bytes.length !== BLOB_BYTES - 4)
    return { status: 'invalid', why: 'it is not a cosignature/v1 signature' };
  const time = bytes.readBigUInt64BE(0);
  if (time === 0n || time > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { status: 'invalid', why: `its timestamp ${time} is not a time` };
  }
  const timestamp = Number(time);
  const ok = verify(null, cosignatureMessage(noteText, timestamp), key.publicKey, bytes.subarray(8));
  return ok ? { status: 'valid', timestamp } : { status: 'invalid', why: 'the signature does not verify' };
}
