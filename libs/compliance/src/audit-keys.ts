import { createHash, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { ComplianceError } from './compliance.errors';
import { parseStrictJson } from './strict-json';

/**
 * Audit signing keys. A key is Ed25519, has an id derived from the key itself (so a bare PEM file names
 * its own key and nobody can give one key two ids) and a validity window. A checkpoint counts only if
 * its time lies in the window of the key that signed it. Rotation is a record in which the outgoing key
 * signs the description of the incoming one; it also ends the outgoing key's window where the new one
 * begins, so a verifier that trusts only an old key can follow the chain forward.
 */

export const AUDIT_KEY_ALGORITHM = 'ed25519';

/** The shape of `GET /api/platform/v1/audit/keys` → `{"keys": [...]}`. */
export interface AuditKeyDescription {
  keyId: string;
  algorithm: typeof AUDIT_KEY_ALGORITHM;
  publicKeyPem: string;
  /** RFC 3339; the key may sign checkpoints whose time is ≥ validFrom … */
  validFrom: string;
  /** … and < validTo; null while the key is current. */
  validTo: string | null;
}

/** A key the verifier trusts, with its window in epoch milliseconds (±Infinity when unbounded). */
export interface TrustedAuditKey {
  keyId: string;
  publicKey: KeyObject;
  validFrom: number;
  validTo: number;
  /** How the verifier came to trust it: given by the user, or introduced by a rotation record. */
  source: 'given' | 'rotation';
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const KEY_ID = /^[0-9a-f]{16}$/;

function parseInstant(value: unknown, what: string): number {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw new ComplianceError('invalid_key', `${what} must be an RFC 3339 timestamp`);
  }
  return Date.parse(value);
}

/** The 32 raw bytes of an Ed25519 public key (RFC 8032 encoding). */
export function rawEd25519PublicKey(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ComplianceError('invalid_key', 'audit keys are Ed25519 keys');
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ format: 'der', type: 'spki' });
  // An Ed25519 SubjectPublicKeyInfo is a fixed 12-byte header followed by the 32-byte key.
  return der.subarray(der.length - 32);
}

/** keyId = the first 8 bytes of SHA-256(raw 32-byte public key), as 16 lower-case hex digits. */
export function auditKeyId(key: KeyObject): string {
  return createHash('sha256').update(rawEd25519PublicKey(key)).digest('hex').slice(0, 16);
}

export function publicKeyPem(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

const BASE64_SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;

/**
 * The 64 bytes of an Ed25519 signature in base64 as §1 of the format spells it, or null for any other
 * spelling. Node's decoder ignores the four padding bits of the last character, so 16 spellings decode
 * to the same bytes; only the one that re-encodes to itself is accepted.
 */
export function decodeSignature(value: unknown): Buffer | null {
  if (typeof value !== 'string' || !BASE64_SIGNATURE.test(value)) return null;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === 64 && bytes.toString('base64') === value ? bytes : null;
}

/**
 * What signs for the audit log: the private half of one Ed25519 key, wherever it is held — in this
 * process (`keyObjectSigner`), in a KMS or an HSM. Shaped after what those services offer: the public
 * key, and a signature over bytes.
 */
export interface AuditSigner {
  /** The Ed25519 public key whose private half signs. */
  readonly publicKey: KeyObject;
  /** The 64-byte pure Ed25519 signature (RFC 8032, no pre-hashing) of `message`. */
  sign(message: Buffer): Promise<Uint8Array>;
}

/** A signer over a private key held in this process. */
export function keyObjectSigner(privateKey: KeyObject): AuditSigner {
  if (privateKey.type !== 'private') throw new ComplianceError('invalid_key', 'a signer needs a private key');
  const publicKey = createPublicKey(privateKey);
  rawEd25519PublicKey(publicKey);
  return { publicKey, sign: async (message) => sign(null, message, privateKey) };
}

/**
 * Signs `message` with `signer` and checks the result against its public key before anyone relies on
 * it: a signer that answers with anything else (another key, a truncated or corrupted signature) is
 * refused here rather than leaving a checkpoint no verifier accepts.
 */
export async function signWith(signer: AuditSigner, message: Buffer): Promise<string> {
  const signature = Buffer.from(await signer.sign(message));
  if (signature.length !== 64 || !verify(null, message, signer.publicKey, signature)) {
    throw new ComplianceError(
      'invalid_key',
      `the signer of key ${auditKeyId(signer.publicKey)} returned something that is not its Ed25519 signature`,
    );
  }
  return signature.toString('base64');
}

/** The public description of a key (what the keys endpoint lists and a rotation record carries). */
export function describeAuditKey(
  key: KeyObject,
  window: { validFrom: string; validTo?: string | null },
): AuditKeyDescription {
  return {
    keyId: auditKeyId(key),
    algorithm: AUDIT_KEY_ALGORITHM,
    publicKeyPem: publicKeyPem(key),
    validFrom: window.validFrom,
    validTo: window.validTo ?? null,
  };
}

function loadPublicKey(pem: unknown): KeyObject {
  if (typeof pem !== 'string') throw new ComplianceError('invalid_key', 'publicKeyPem must be a PEM string');
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ComplianceError('invalid_key', 'publicKeyPem is not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ComplianceError('invalid_key', 'audit keys are Ed25519 keys');
  return key;
}

/** Validates a key description (including that its keyId is the key's own) and makes it trusted. */
export function trustAuditKey(
  description: unknown,
  source: TrustedAuditKey['source'] = 'given',
): TrustedAuditKey {
  if (typeof description !== 'object' || description === null) {
    throw new ComplianceError('invalid_key', 'a key description must be an object');
  }
  const d = description as Partial<Record<keyof AuditKeyDescription, unknown>>;
  if (d.algorithm !== AUDIT_KEY_ALGORITHM)
    throw new ComplianceError('invalid_key', 'algorithm must be "ed25519"');
  if (typeof d.keyId !== 'string' || !KEY_ID.test(d.keyId)) {
    throw new ComplianceError('invalid_key', 'keyId must be 16 lower-case hex digits');
  }
  const publicKey = loadPublicKey(d.publicKeyPem);
  if (auditKeyId(publicKey) !== d.keyId) {
    throw new ComplianceError('invalid_key', `keyId ${d.keyId} is not the id of the key it describes`);
  }
  const validFrom = parseInstant(d.validFrom, 'validFrom');
  const validTo = d.validTo === null ? Infinity : parseInstant(d.validTo, 'validTo');
  if (validTo <= validFrom)
    throw new ComplianceError('invalid_key', `key ${d.keyId} has an empty validity window`);
  return { keyId: d.keyId, publicKey, validFrom, validTo, source };
}

/** A bare public key: trusted for any time (the user vouches for it without a window). */
export function trustPublicKey(key: KeyObject): TrustedAuditKey {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return {
    keyId: auditKeyId(publicKey),
    publicKey,
    validFrom: -Infinity,
    validTo: Infinity,
    source: 'given',
  };
}

/** What `--key FILE` may hold, or what a caller passes to the verifier directly. */
export type AuditKeysInput =
  | string
  | KeyObject
  | readonly AuditKeyDescription[]
  | { keys: readonly AuditKeyDescription[] }
  | AuditKeyring;

/** What following one rotation record did, or why it must not be followed. */
export type RotationVerdict =
  | { outcome: 'extended'; key: TrustedAuditKey }
  /** The record changes nothing: its signer is not trusted, or the user's key list is authoritative. */
  | { outcome: 'ignored' }
  | {
      outcome: 'refused';
      reason: 'unknown_key' | 'bad_signature' | 'fork' | 'backdated' | 'malformed';
      keyId: string;
      message: string;
    };

/**
 * The keys a verifier trusts, by id. Two or more keys given (the keys endpoint's list) are the whole
 * truth: rotation records in a bundle add nothing to them. One key given starts a chain that rotation
 * records may extend, one key after the other: each key has at most one successor, introduced at the
 * moment its predecessor's validity ends (never before: no back-dating), so whoever holds a retired key
 * cannot add a second successor or reopen the past.
 */
export class AuditKeyring {
  private readonly keys = new Map<string, TrustedAuditKey>();
  /** In a chain: each key's successor and when it took over. */
  private readonly successors = new Map<string, { keyId: string; time: string }>();
  /** Keys only a rotation record names, which an authoritative list made the verifier ignore. */
  private readonly ignoredRotations = new Map<string, string>();

  constructor(keys: Iterable<TrustedAuditKey> = []) {
    for (const key of keys) this.add(key);
  }

  /**
   * Reads a PEM public key, or the keys endpoint's JSON (`{"keys": [...]}` or a bare array), or
   * descriptions already parsed. Throws `invalid_key` with the reason when it cannot.
   */
  static from(input: AuditKeysInput): AuditKeyring {
    if (input instanceof AuditKeyring) return input.clone();
    if (input instanceof KeyObject) return new AuditKeyring([trustPublicKey(input)]);
    if (typeof input === 'string') {
      const text = input.trim();
      if (text.startsWith('-----BEGIN')) return new AuditKeyring([trustPublicKey(loadPublicKey(text))]);
      const parsed = parseStrictJson(text);
      if ('problem' in parsed) {
        throw new ComplianceError(
          'invalid_key',
          `expected a PEM public key or the audit keys JSON (${parsed.problem})`,
        );
      }
      return AuditKeyring.fromDescriptions(parsed.value);
    }
    return AuditKeyring.fromDescriptions(input);
  }

  private static fromDescriptions(parsed: unknown): AuditKeyring {
    const list = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(list) || list.length === 0) {
      throw new ComplianceError('invalid_key', 'expected {"keys": [ … ]} with at least one key');
    }
    return new AuditKeyring(list.map((d: unknown) => trustAuditKey(d, 'given')));
  }

  /** Whether the keys given are a list (two or more), which rotation records cannot extend. */
  get authoritative(): boolean {
    let given = 0;
    for (const key of this.keys.values()) if (key.source === 'given') given++;
    return given > 1;
  }

  add(key: TrustedAuditKey): void {
    const known = this.keys.get(key.keyId);
    if (known && !known.publicKey.equals(key.publicKey)) {
      throw new ComplianceError('invalid_key', `two different keys claim id ${key.keyId}`);
    }
    // The same key listed twice: the first description wins.
    if (!known) this.keys.set(key.keyId, key);
  }

  get(keyId: string): TrustedAuditKey | undefined {
    return this.keys.get(keyId);
  }

  ids(): string[] {
    return [...this.keys.keys()];
  }

  /** Ends a key's window at `instant` (if it ended later): what a rotation record does to the old key. */
  retire(keyId: string, instant: number): void {
    const key = this.keys.get(keyId);
    if (key && instant < key.validTo) this.keys.set(keyId, { ...key, validTo: instant });
  }

  /**
   * Follows a rotation record (docs/audit-format.md §6 and §8 step 2). Its shape must have been checked
   * (`time` a timestamp, `signature` spelled as §1 says, `key` an object).
   */
  followRotation(record: KeyRotationRecord): RotationVerdict {
    const previous = this.keys.get(record.previousKeyId);
    // A key the user does not trust vouches for nothing (as signed notes skip unknown signers).
    if (!previous) return { outcome: 'ignored' };
    const incomingId = typeof record.key.keyId === 'string' ? record.key.keyId : '?';
    if (this.authoritative) {
      this.ignoredRotations.set(incomingId, `${record.previousKeyId} at ${record.time}`);
      return { outcome: 'ignored' };
    }
    const refuse = (reason: Extract<RotationVerdict, { outcome: 'refused' }>['reason'], message: string) =>
      ({ outcome: 'refused', reason, keyId: previous.keyId, message }) as const;
    if (!verifyKeyRotationSignature(record, previous.publicKey)) {
      return refuse(
        'bad_signature',
        `the rotation from key ${previous.keyId} to ${incomingId} has an invalid signature`,
      );
    }
    const earlier = this.successors.get(previous.keyId);
    if (earlier) {
      return refuse(
        'fork',
        `key ${previous.keyId} was rotated twice: to ${earlier.keyId} at ${earlier.time} and to ${incomingId} at ${record.time}`,
      );
    }
    const at = Date.parse(record.time);
    if (at <= previous.validFrom || at > previous.validTo) {
      return refuse(
        'unknown_key',
        `key ${previous.keyId} signed a rotation at ${record.time}, outside its validity ${describeWindow(previous)}`,
      );
    }
    if (Number.isFinite(previous.validTo) && at < previous.validTo) {
      // A key given with an end: a rotation is what ended it, at that very moment.
      return refuse(
        'unknown_key',
        `key ${previous.keyId} was retired at ${new Date(previous.validTo).toISOString()} (as given), not by a rotation at ${record.time}`,
      );
    }
    let incoming: TrustedAuditKey;
    try {
      incoming = trustAuditKey(record.key, 'rotation');
    } catch (err) {
      return refuse('malformed', `the key in a rotation record is invalid: ${(err as Error).message}`);
    }
    if (this.keys.has(incoming.keyId)) {
      return refuse(
        'fork',
        `key ${previous.keyId} hands over to key ${incoming.keyId}, which already belongs to the chain`,
      );
    }
    if (incoming.validFrom !== at) {
      return refuse(
        'backdated',
        `key ${incoming.keyId} claims validity from ${record.key.validFrom}, but key ${previous.keyId} handed over to it at ${record.time}: a key is valid from its rotation, never earlier or later`,
      );
    }
    if (incoming.validTo !== Infinity) {
      return refuse(
        'malformed',
        `key ${incoming.keyId} comes with an end of validity; only its own rotation ends it`,
      );
    }
    this.keys.set(incoming.keyId, incoming);
    this.retire(previous.keyId, at);
    this.successors.set(previous.keyId, { keyId: incoming.keyId, time: record.time });
    return { outcome: 'extended', key: incoming };
  }

  /** Why `keyId` is not trusted, in words: for the failure that names it. */
  whyUntrusted(keyId: string): string {
    const rotation = this.ignoredRotations.get(keyId);
    return rotation === undefined
      ? `key ${keyId}, which is not trusted`
      : `key ${keyId}, which is not in the key list given; a rotation record in the bundle (from ${rotation}) names it, but a key list given to the verifier is complete: rotation records cannot add to it`;
  }

  clone(): AuditKeyring {
    const copy = new AuditKeyring(this.keys.values());
    for (const [id, next] of this.successors) copy.successors.set(id, next);
    for (const [id, from] of this.ignoredRotations) copy.ignoredRotations.set(id, from);
    return copy;
  }
}

/** Whether `key` may sign something dated `instant` (epoch ms): validFrom ≤ instant < validTo. */
export function keyValidAt(key: TrustedAuditKey, instant: number): boolean {
  return key.validFrom <= instant && instant < key.validTo;
}

export function describeWindow(key: TrustedAuditKey): string {
  const from = Number.isFinite(key.validFrom) ? new Date(key.validFrom).toISOString() : '−∞';
  const to = Number.isFinite(key.validTo) ? new Date(key.validTo).toISOString() : '∞';
  return `[${from}, ${to})`;
}

/** A key transition: the outgoing key (`previousKeyId`) vouches for the incoming `key`. */
export interface KeyRotationRecord {
  /** When the rotation happened (RFC 3339 UTC ms); must lie in the outgoing key's window. */
  time: string;
  previousKeyId: string;
  key: AuditKeyDescription;
  /** Base64 Ed25519 signature by the outgoing key over keyRotationSigningInput(record). */
  signature: string;
}

/** Domain separation: a rotation signature can never be mistaken for a checkpoint signature. */
export const KEY_ROTATION_CONTEXT = 'townhall-audit-key-rotation/v1\n';

/** The signed bytes: UTF-8 of the context line followed by JCS({key, previousKeyId, time}). */
export function keyRotationSigningInput(record: Omit<KeyRotationRecord, 'signature'>): Buffer {
  const body = canonicalJson({ key: record.key, previousKeyId: record.previousKeyId, time: record.time });
  return Buffer.from(KEY_ROTATION_CONTEXT + body, 'utf8');
}

export function signKeyRotation(
  record: Omit<KeyRotationRecord, 'signature'>,
  previousPrivateKey: KeyObject,
): KeyRotationRecord {
  const input = rotationToSign(record, previousPrivateKey);
  const signature = sign(null, input, previousPrivateKey).toString('base64');
  return { time: record.time, previousKeyId: record.previousKeyId, key: record.key, signature };
}

/** `signKeyRotation` with the outgoing key wherever it is held (a KMS, an HSM: see AuditSigner). */
export async function signKeyRotationWith(
  record: Omit<KeyRotationRecord, 'signature'>,
  previous: AuditSigner,
): Promise<KeyRotationRecord> {
  const signature = await signWith(previous, rotationToSign(record, previous.publicKey));
  return { time: record.time, previousKeyId: record.previousKeyId, key: record.key, signature };
}

/** The bytes a rotation signs, once the record is one the outgoing key may sign. */
function rotationToSign(record: Omit<KeyRotationRecord, 'signature'>, previous: KeyObject): Buffer {
  if (auditKeyId(previous) !== record.previousKeyId) {
    throw new ComplianceError('invalid_key', 'the rotation must be signed by the outgoing key');
  }
  const incoming = trustAuditKey(record.key, 'rotation');
  if (incoming.validFrom !== Date.parse(record.time) || incoming.validTo !== Infinity) {
    throw new ComplianceError(
      'invalid_key',
      'the incoming key is valid from the rotation time on, with no end yet (docs/audit-format.md §6)',
    );
  }
  return keyRotationSigningInput(record);
}

export function verifyKeyRotationSignature(record: KeyRotationRecord, previousPublicKey: KeyObject): boolean {
  const signature = decodeSignature(record.signature);
  if (signature === null) return false;
  try {
    return verify(null, keyRotationSigningInput(record), previousPublicKey, signature);
  } catch {
    return false;
  }
}
