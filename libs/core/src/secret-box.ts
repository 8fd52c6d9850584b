import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TownhallConfig } from './config';

/** The first format: AES-256-GCM over the plaintext as it is. Still opened; no longer written. */
const UNPADDED = 'v1';
/** AES-256-GCM over the plaintext padded to its bucket (`paddedLength`), so lengths say little. */
const PADDED = 'v2';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Buckets double from the smallest up to the largest, then grow by the largest. */
const SMALLEST_BUCKET = 256;
const LARGEST_DOUBLING = 64 * 1024;

/** A sealed value that is not one: what is wrong with it, never its content. */
export class SealedSecretFormatError extends Error {
  constructor(problem: string) {
    super(`Not a sealed secret this version can open: ${problem}`);
    this.name = 'SealedSecretFormatError';
  }
}

/**
 * Authenticated encryption (AES-256-GCM, 96-bit random IV, 128-bit tag) for secrets stored in the
 * database, such as actor private keys and personal data. The ciphertext names its format version so
 * the scheme can change without a flag day, and the caller passes an `aad` (for example the owning
 * row's id) so a ciphertext cannot be moved to another row.
 *
 * The plaintext is padded (ISO/IEC 7816-4: a 0x80 byte, then zeros) to the next bucket before it is
 * encrypted — 256 bytes, then powers of two up to 64 KiB, then multiples of 64 KiB — so that two
 * values in one bucket give ciphertexts of the same length: the length of a sealed e-mail address
 * does not give away the address's length. Values sealed before padding (`v1`) still open.
 *
 * Opening accepts exactly what sealing writes: a 12-byte IV and a 16-byte tag (GCM would otherwise
 * check a tag truncated to 4 bytes, which a forger can hit by trying), in canonical base64.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(pad(Buffer.from(plaintext, 'utf8'))), cipher.final()]);
    return [
      PADDED,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      body.toString('base64'),
    ].join(':');
  }

  open(sealed: string, aad: string): string {
    const parts = sealed.split(':');
    const [version] = parts;
    if ((version !== UNPADDED && version !== PADDED) || parts.length !== 4) {
      throw new SealedSecretFormatError(
        `expected "${PADDED}:iv:tag:ciphertext" (or the older "${UNPADDED}:…")`,
      );
    }
    const iv = strictBase64(parts[1], 'IV');
    const tag = strictBase64(parts[2], 'authentication tag');
    const body = strictBase64(parts[3], 'ciphertext');
    if (iv.length !== IV_BYTES) {
      throw new SealedSecretFormatError(`the IV must be ${IV_BYTES} bytes (got ${iv.length})`);
    }
    if (tag.length !== TAG_BYTES) {
      throw new SealedSecretFormatError(
        `the authentication tag must be ${TAG_BYTES} bytes (got ${tag.length})`,
      );
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]);
    return (version === PADDED ? unpad(plain) : plain).toString('utf8');
  }
}

/**
 * The length a plaintext of `bytes` bytes is padded to: the smallest bucket with room for it and the
 * padding's 0x80 byte.
 */
export function paddedLength(bytes: number): number {
  const needed = bytes + 1;
  if (needed > LARGEST_DOUBLING) return Math.ceil(needed / LARGEST_DOUBLING) * LARGEST_DOUBLING;
  let bucket = SMALLEST_BUCKET;
  while (bucket < needed) bucket *= 2;
  return bucket;
}

function pad(plain: Buffer): Buffer {
  const padded = Buffer.alloc(paddedLength(plain.length));
  plain.copy(padded);
  padded[plain.length] = 0x80;
  return padded;
}

function unpad(padded: Buffer): Buffer {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  // Authenticated, so only a sealer that did not pad gets here.
  if (end < 0 || padded[end] !== 0x80) throw new SealedSecretFormatError('the padding is malformed');
  return padded.subarray(0, end);
}

/** Base64 as `seal` writes it; Node's decoder would skip stray characters and accept other spellings. */
function strictBase64(text: string, what: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || bytes.toString('base64') !== text) {
    throw new SealedSecretFormatError(`the ${what} is not canonical base64`);
  }
  return bytes;
}

/** How to make a secret key, for messages that ask for one. */
export const SECRET_KEY_RECIPE = 'openssl rand -base64 32';

/**
 * A secret key written as text (TOWNHALL_SECRET_KEY, the generated key file, a new key for rotation):
 * 32 bytes in base64, padding optional, surrounding white space ignored; null for anything else. Strict,
 * because Node's base64 decoder skips characters it does not know, and a key mangled on its way into a
 * file must not quietly become another key.
 */
export function decodeSecretKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(trimmed)) return null;
  const key = Buffer.from(trimmed, 'base64');
  return key.toString('base64').replace(/=$/, '') === trimmed.replace(/=$/, '') ? key : null;
}

/** Where the secret key of `config` comes from, as an operator would look for it. */
export function secretKeySource(config: Pick<TownhallConfig, 'secretKey' | 'dataDir'>): string {
  return config.secretKey
    ? 'TOWNHALL_SECRET_KEY'
    : `the generated key file ${join(config.dataDir, 'secret.key')}`;
}

/**
 * The configured secret key, or — outside production only — one generated once and kept in the data
 * directory, so a trial installation keeps working across restarts without setup.
 */
export function resolveSecretKey(config: Pick<TownhallConfig, 'secretKey' | 'env' | 'dataDir'>): Buffer {
  if (config.secretKey) return config.secretKey;
  if (config.env === 'production') throw new Error('TOWNHALL_SECRET_KEY is required in production');
  const file = join(config.dataDir, 'secret.key');
  if (existsSync(file)) {
    const key = decodeSecretKey(readFileSync(file, 'utf8'));
    if (!key) throw new Error(`${file} does not hold a secret key (32 bytes in base64)`);
    return key;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

/**
 * The format of the key check value, which also names the scheme the key seals with: a process meeting
 * a format it does not know refuses to start rather than guess.
 *
 * - `…/v2` (current): the key seals nothing itself; each purpose has its own subkey derived from it
 *   (`SecretKeyring`), and audit subject keys are wrapped under period keys;
 * - `…/v1`: the key was the AES key of every sealed value and the input of the audit lookup key. A
 *   start that finds it upgrades the stored secrets to the current scheme (see `checkSecretKey`).
 */
export const SECRET_KEY_CHECK_FORMAT = 'townhall-secret-key-check/v2';
export const DIRECT_SEALING_CHECK_FORMAT = 'townhall-secret-key-check/v1';

/**
 * What the platform stores about its secret key so that a start can tell whether it was given the key
 * that sealed the data (`platform.secret_key_check`). Both values come out of HKDF-SHA256 with
 * their own `info`, so neither says anything about the key or about the other, and checking a guess
 * against them is as hard as guessing the 256-bit key itself. Both formats derive them alike.
 *
 * - `keyId`: 8 bytes in hex, for people: which key a platform, a key file or a backup has;
 * - `value`: 32 bytes, compared in constant time.
 */
export interface SecretKeyCheck {
  format: string;
  keyId: string;
  value: Buffer;
}

export function secretKeyCheck(key: Buffer): SecretKeyCheck {
  return { format: SECRET_KEY_CHECK_FORMAT, keyId: secretKeyId(key), value: derive(key, 'check', 32) };
}

/** The key id of `key`: safe to print and to store next to backups. */
export function secretKeyId(key: Buffer): string {
  return derive(key, 'id', 8).toString('hex');
}

/**
 * Whether `key` is the key `stored` was computed from: `unknown-format` when `stored` was written by a
 * version that uses another scheme.
 */
export function compareSecretKeyCheck(
  key: Buffer,
  stored: SecretKeyCheck,
): 'match' | 'mismatch' | 'unknown-format' {
  if (stored.format !== SECRET_KEY_CHECK_FORMAT && stored.format !== DIRECT_SEALING_CHECK_FORMAT)
    return 'unknown-format';
  const mine = secretKeyCheck(key).value;
  return stored.value.length === mine.length && timingSafeEqual(stored.value, mine) ? 'match' : 'mismatch';
}

function derive(key: Buffer, purpose: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `townhall/secret-key-${purpose}/v1`, length));
}
