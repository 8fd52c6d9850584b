import { randomBytes } from 'node:crypto';
import {
  compareSecretKeyCheck,
  decodeSecretKey,
  SECRET_KEY_CHECK_FORMAT,
  SecretBox,
  secretKeyCheck,
  secretKeyId,
} from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips a secret and never stores it in clear', () => {
    const sealed = box.seal('-----BEGIN PRIVATE KEY-----abc', 'tenant_1:key');
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(sealed.startsWith('v1:')).toBe(true);
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

  it('refuses to judge a check value of a format it does not know', () => {
    expect(
      compareSecretKeyCheck(key, { ...secretKeyCheck(key), format: 'townhall-secret-key-check/v2' }),
    ).toBe('unknown-format');
  });
});
