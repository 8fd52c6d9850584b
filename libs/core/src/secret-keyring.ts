import { hkdfSync } from 'node:crypto';
import { SecretBox } from './secret-box';

/**
 * What the platform's secret key is used for. Each purpose gets its own subkey, so a value sealed for
 * one purpose never opens as another, and no AES key in use is the secret key itself.
 *
 * - `actor-keys`: tenant actors' private keys and the pre-generated pool's;
 * - `audit-signing-keys`: the audit log's Ed25519 private keys;
 * - `audit-period-keys`: the audit log's period keys, which wrap the keys of audit subjects and key
 *   their lookup digests (docs/compliance.md);
 * - `audit-legacy-lookup-key`: the lookup key of audit subjects recorded before identifiers were kept;
 * - `audit-subject-locks`: not a sealing key: it turns an identifier into the number of the lock that
 *   serialises two transactions meeting the same new person, so the lock says nothing about them.
 */
export type SecretPurpose =
  | 'actor-keys'
  | 'audit-signing-keys'
  | 'audit-period-keys'
  | 'audit-legacy-lookup-key'
  | 'audit-subject-locks';

/**
 * The platform's secret key (TOWNHALL_SECRET_KEY) as the code uses it: one subkey per purpose, each
 * HKDF-SHA256 of the key with no salt and the info `townhall/secret-key/<purpose>/v2`, and a
 * SecretBox per sealing purpose.
 */
export class SecretKeyring {
  private readonly boxes = new Map<SecretPurpose, SecretBox>();

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('The secret key must be 32 bytes');
  }

  subkey(purpose: SecretPurpose): Buffer {
    return Buffer.from(
      hkdfSync('sha256', this.key, Buffer.alloc(0), `townhall/secret-key/${purpose}/v2`, 32),
    );
  }

  box(purpose: SecretPurpose): SecretBox {
    let box = this.boxes.get(purpose);
    if (!box) this.boxes.set(purpose, (box = new SecretBox(this.subkey(purpose))));
    return box;
  }

  /**
   * The secret key as the AES key of every value, as installations sealed before subkeys existed
   * (check format `townhall-secret-key-check/v1`). Only the upgrade of such an installation opens with
   * it; nothing seals with it.
   */
  directSealing(): SecretBox {
    return new SecretBox(this.key);
  }

  /**
   * HKDF-SHA256 of the secret key itself, no salt, with `info`: how installations before subkeys
   * derived their keys (the audit lookup key). Only the upgrade of such an installation uses it.
   */
  directDerivation(info: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), info, 32));
  }

  /** Whether `other` holds the same secret key. */
  sameKey(other: SecretKeyring): boolean {
    return this.key.equals(other.key);
  }
}
