import { createHash, createPublicKey, KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { ComplianceError } from './compliance.errors';

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

/** The keys a verifier trusts, by id; rotation records add keys and close windows as they are checked. */
export class AuditKeyring {
  private readonly keys = new Map<string, TrustedAuditKey>();

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
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ComplianceError('invalid_key', 'expected a PEM public key or the audit keys JSON');
      }
      return AuditKeyring.fromDescriptions(parsed);
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

  add(key: TrustedAuditKey): void {
    const known = this.keys.get(key.keyId);
    if (known && !known.publicKey.equals(key.publicKey)) {
      throw new ComplianceError('invalid_key', `two different keys claim id ${key.keyId}`);
    }
    // The same key listed twice (say in the keys file and in a rotation record): the user's window wins.
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

  clone(): AuditKeyring {
    return new AuditKeyring(this.keys.values());
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
  if (auditKeyId(previousPrivateKey) !== record.previousKeyId) {
    throw new ComplianceError('invalid_key', 'the rotation must be signed by the outgoing key');
  }
  trustAuditKey(record.key, 'rotation');
  const signature = sign(null, keyRotationSigningInput(record), previousPrivateKey).toString('base64');
  return { time: record.time, previousKeyId: record.previousKeyId, key: record.key, signature };
}

export function verifyKeyRotationSignature(record: KeyRotationRecord, previousPublicKey: KeyObject): boolean {
  try {
    return verify(
      null,
      keyRotationSigningInput(record),
      previousPublicKey,
      Buffer.from(record.signature, 'base64'),
    );
  } catch {
    return false;
  }
}
