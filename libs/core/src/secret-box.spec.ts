import { createCipheriv, randomBytes } from 'node:crypto';
import {
  compareSecretKeyCheck,
  decodeSecretKey,
  DIRECT_SEALING_CHECK_FORMAT,
  paddedLength,
  SECRET_KEY_CHECK_FORMAT,
  SecretBox,
  secretKeyCheck,
  secretKeyId,
} from './secret-box';

/**
 * AES-256-GCM as an outside sealer would write it in Townhall's format, with the IV and tag lengths
 * it chooses and the plaintext given as bytes (already padded, or not).
 */
function sealedBy(
  key: Buffer,
  plaintext: Buffer,
  aad: string,
  { version = 'v2', ivBytes = 12, tagBytes = 16 } = {},
): string {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [version, iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64')))
    .join(':');
}

/** `text` padded as the v2 format pads it: 0x80, then zeros, to `length` bytes. */
function padded(text: string, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  Buffer.from(text).copy(bytes);
  bytes[Buffer.byteLength(text)] = 0x80;
  return bytes;
}

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a secret and never stores it in clear', () => {
    const sealed = box.seal('-----BEGIN PRIVATE KEY-----abc', 'tenant_1:key');
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(sealed.startsWith('v2:')).toBe(true);
    expect(box.open(sealed, 'tenant_1:key')).toBe('-----BEGIN PRIVATE KEY-----abc');
  });

  it('refuses a ciphertext moved to another owner, altered, or opened with another key', () => {
    const sealed = box.seal('secret', 'tenant_1:key');
    expect(() => box.open(sealed, 'tenant_2:key')).toThrow();
    const parts = sealed.split(':');
    parts[3] = Buffer.from('tampered').toString('base64');
    expect(() => box.open(parts.join(':'), 'tenant_1:key')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'tenant_1:key')).toThrow();
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(/32-byte/);
  });

  it('refuses an authentication tag shorter than 16 bytes, which GCM would otherwise check as given', () => {
    const key = randomBytes(32);
    const mine = new SecretBox(key);
    for (const tagBytes of [4, 8, 12, 15]) {
      for (const sealed of [
        sealedBy(key, padded('secret', 256), 'aad', { tagBytes }),
        sealedBy(key, Buffer.from('secret'), 'aad', { tagBytes, version: 'v1' }),
      ]) {
        expect(() => mine.open(sealed, 'aad')).toThrow(
          `Not a sealed secret this version can open: the authentication tag must be 16 bytes (got ${tagBytes})`,
        );
      }
    }
    expect(mine.open(sealedBy(key, padded('secret', 256), 'aad'), 'aad')).toBe('secret');
  });

  it('refuses an IV of any length but 12 bytes', () => {
    const key = randomBytes(32);
    for (const ivBytes of [8, 11, 13, 16, 64]) {
      const sealed = sealedBy(key, padded('secret', 256), 'aad', { ivBytes });
      expect(() => new SecretBox(key).open(sealed, 'aad')).toThrow(
        `Not a sealed secret this version can open: the IV must be 12 bytes (got ${ivBytes})`,
      );
    }
  });

  it('refuses what it did not write: other versions, missing parts, stray or non-canonical base64', () => {
    const sealed = box.seal('secret', 'aad');
    const [v, iv, tag, body] = sealed.split(':');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // The tag's last character carries 4 unused bits: a sibling spelling decodes to the same bytes.
    const sibling = `${tag.slice(0, 21)}${alphabet[alphabet.indexOf(tag[21]) ^ 1]}==`;
    expect(Buffer.from(sibling, 'base64')).toEqual(Buffer.from(tag, 'base64'));
    for (const bad of [
      `v3:${iv}:${tag}:${body}`,
      `${v}:${iv}:${tag}`,
      `${v}:${iv}:${tag}:${body}:extra`,
      `${v}:${iv}*:${tag}:${body}`,
      `${v}:${iv}:${sibling}:${body}`,
    ]) {
      expect(() => box.open(bad, 'aad')).toThrow(/^Not a sealed secret this version can open: /);
    }
  });

  it('opens values sealed before padding (v1), and seals only padded ones', () => {
    const key = randomBytes(32);
    const old = sealedBy(key, Buffer.from('press@bmi.example'), 'aad', { version: 'v1' });
    expect(new SecretBox(key).open(old, 'aad')).toBe('press@bmi.example');
    expect(new SecretBox(key).seal('x', 'aad')).toMatch(/^v2:/);
  });

  it('gives every plaintext of one bucket a ciphertext of one length', () => {
    const lengths = (texts: string[]) => new Set(texts.map((t) => box.seal(t, 'aad').length));
    // E-mail addresses from 5 to 255 bytes: the first bucket.
    expect(lengths(['a@b.c', 'press@bmi.example', `${'x'.repeat(243)}@example.org`])).toEqual(
      new Set([box.seal('', 'aad').length]),
    );
    expect(lengths(['é'.repeat(200), 'x'.repeat(256), 'x'.repeat(511)]).size).toBe(1);
    expect(box.seal('x'.repeat(256), 'aad').length).toBeGreaterThan(box.seal('x'.repeat(255), 'aad').length);
    for (const text of ['', 'x'.repeat(255), 'x'.repeat(256), 'é'.repeat(5000)])
      expect(box.open(box.seal(text, 'aad'), 'aad')).toBe(text);
  });

  it('pads to 256 bytes, then powers of two up to 64 KiB, then multiples of 64 KiB', () => {
    expect([0, 255, 256, 511, 512, 65535, 65536, 200_000].map(paddedLength)).toEqual([
      256, 256, 512, 512, 1024, 65536, 131072, 262144,
    ]);
  });
});

describe('decodeSecretKey', () => {
  const key = randomBytes(32);

  it('reads 32 bytes of base64, with or without padding and surrounding white space', () => {
    expect(decodeSecretKey(`${key.toString('base64')}\n`)).toEqual(key);
    expect(decodeSecretKey(key.toString('base64').replace(/=$/, ''))).toEqual(key);
  });

  it('refuses anything else rather than decode it into another key', () => {
    const text = key.toString('base64');
    for (const bad of [
      '',
      'c2hvcnQ=',
      `${text}AAAA`,
      `${text.slice(0, 10)}*${text.slice(11)}`,
      `${text} x`,
    ]) {
      expect(decodeSecretKey(bad)).toBeNull();
    }
    // The last character carries 2 bits that 32 bytes do not use: only one spelling is the key.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sibling = alphabet[alphabet.indexOf(text[42]) + 1];
    expect(Buffer.from(`${text.slice(0, 42)}${sibling}=`, 'base64')).toEqual(key);
    expect(decodeSecretKey(`${text.slice(0, 42)}${sibling}=`)).toBeNull();
  });
});

describe('the secret key check value', () => {
  const key = randomBytes(32);

  it('matches the key it was made from and no other', () => {
    const check = secretKeyCheck(key);
    expect(check.format).toBe(SECRET_KEY_CHECK_FORMAT);
    expect(check.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(check.keyId).toBe(secretKeyId(key));
    expect(compareSecretKeyCheck(key, check)).toBe('match');
    expect(compareSecretKeyCheck(randomBytes(32), check)).toBe('mismatch');
  });

  it('contains neither the key nor anything that opens what it sealed', () => {
    const check = secretKeyCheck(key);
    expect(check.value.equals(key)).toBe(false);
    expect(check.value.toString('hex')).not.toContain(check.keyId);
    const sealed = new SecretBox(key).seal('secret', 'aad');
    expect(() => new SecretBox(check.value).open(sealed, 'aad')).toThrow();
  });

  it('judges check values of both sealing schemes alike, and refuses a format it does not know', () => {
    expect(SECRET_KEY_CHECK_FORMAT).toBe('townhall-secret-key-check/v2');
    const direct = { ...secretKeyCheck(key), format: DIRECT_SEALING_CHECK_FORMAT };
    expect(compareSecretKeyCheck(key, direct)).toBe('match');
    expect(compareSecretKeyCheck(randomBytes(32), direct)).toBe('mismatch');
    expect(
      compareSecretKeyCheck(key, { ...secretKeyCheck(key), format: 'townhall-secret-key-check/v3' }),
    ).toBe('unknown-format');
  });
});
