import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

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
