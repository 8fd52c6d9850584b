import { hkdfSync, randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';
import { SecretKeyring, type SecretPurpose } from './secret-keyring';

const PURPOSES: SecretPurpose[] = [
  'actor-keys',
  'audit-signing-keys',
  'audit-period-keys',
  'audit-legacy-lookup-key',
  'audit-subject-locks',
];

describe('SecretKeyring', () => {
  const key = randomBytes(32);
  const keyring = new SecretKeyring(key);

  it('derives one subkey per purpose, none of them the secret key, as docs/operations.md says', () => {
    const subkeys = PURPOSES.map((p) => keyring.subkey(p).toString('hex'));
    expect(new Set([...subkeys, key.toString('hex')]).size).toBe(PURPOSES.length + 1);
    // HKDF-SHA256 (RFC 5869), no salt, info townhall/secret-key/<purpose>/v2, pinned for a fixed key as
    // another implementation of RFC 5869 computes it, so
    // that a change of derivation, which would leave every sealed secret unopenable, cannot slip by.
    expect(keyring.subkey('actor-keys')).toEqual(
      Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'townhall/secret-key/actor-keys/v2', 32)),
    );
    const fixed = new SecretKeyring(Buffer.from(Array.from({ length: 32 }, (_, i) => i)));
    expect(fixed.subkey('audit-period-keys').toString('hex')).toBe(
      '4a5e18709d537dde84a0e841dac316285b9ca0fdca8baf1befc5e1121c625707',
    );
  });

  it('seals each purpose with its own subkey: nothing opens with the secret key or another purpose', () => {
    const sealed = keyring.box('actor-keys').seal('private key', 'aad');
    expect(keyring.box('actor-keys').open(sealed, 'aad')).toBe('private key');
    expect(() => new SecretBox(key).open(sealed, 'aad')).toThrow();
    expect(() => keyring.directSealing().open(sealed, 'aad')).toThrow();
    expect(() => keyring.box('audit-signing-keys').open(sealed, 'aad')).toThrow();
    expect(() => new SecretKeyring(randomBytes(32)).box('actor-keys').open(sealed, 'aad')).toThrow();
  });

  it('opens what the secret key sealed itself only through directSealing, for the upgrade', () => {
    const old = new SecretBox(key).seal('private key', 'aad');
    expect(keyring.directSealing().open(old, 'aad')).toBe('private key');
    expect(() => keyring.box('actor-keys').open(old, 'aad')).toThrow();
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretKeyring(randomBytes(31))).toThrow(/32 bytes/);
  });
});
