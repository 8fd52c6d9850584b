import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TownhallConfig } from './config';

const VERSION = 'v1';

/**
 * Authenticated encryption (AES-256-GCM) for secrets stored in the database, such as actor private
 * keys. The ciphertext names its format version so the scheme can change without a flag day, and the
 * caller passes an `aad` (for example the owning row's id) so a ciphertext cannot be moved to another row.
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
  }

  seal(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      body.toString('base64'),
    ].join(':');
  }

  open(sealed: string, aad: string): string {
    const [version, iv, tag, body] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('Unknown secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
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
 * The format of the key check value. A later scheme (per-purpose subkeys, wrapped keys) gets a new
 * format name; a process meeting a format it does not know refuses to start rather than guess.
 */
export const SECRET_KEY_CHECK_FORMAT = 'townhall-secret-key-check/v1';

/**
 * What the platform stores about its secret key so that a start can tell whether it was given the key
 * that sealed the data (`platform.secret_key_check`). Both values come out of HKDF-SHA256 with
 * their own `info`, so neither says anything about the key or about the other, and checking a guess
 * against them is as hard as guessing the 256-bit key itself.
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
  if (stored.format !== SECRET_KEY_CHECK_FORMAT) return 'unknown-format';
  const mine = secretKeyCheck(key).value;
  return stored.value.length === mine.length && timingSafeEqual(stored.value, mine) ? 'match' : 'mismatch';
}

function derive(key: Buffer, purpose: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `townhall/secret-key-${purpose}/v1`, length));
}
