import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SecretBox, SecretKeyring } from '@townhall/core';
import { auditSigningKeyAad } from '@townhall/persistence';
import {
  AUDIT_KEY_ALGORITHM,
  auditKeyId,
  describeAuditKey,
  publicKeyPem,
  signKeyRotation,
  type AuditKeyDescription,
  type KeyRotationRecord,
} from '../audit-keys';
import { AuditLogRepository, type Queryable, type SigningKeyRow } from './audit-log.repository';

/** The key that signs now. */
export interface CurrentSigningKey {
  keyId: string;
  validFrom: Date;
  privateKey: KeyObject;
}

/** The key that is current after a rotation, and the record that vouches for it (null for a first key). */
export interface AuditKeyRotation {
  key: AuditKeyDescription;
  rotation: KeyRotationRecord | null;
}

/**
 * The platform's Ed25519 audit signing keys: one current key (the log's first generated on first use),
 * the retired ones with their windows, and rotation. Private keys are stored sealed with the platform
 * secret key's subkey for them, each bound to its key id, so it cannot be moved to another key's row and opened there. Callers that sign or rotate hold the sequencer lock on the owner's connection, so signing
 * and rotating never interleave.
 */
@Injectable()
export class AuditSigningKeys {
  /** Opened private keys by key id: opening costs an AES-GCM decryption and a key parse per checkpoint. */
  private readonly opened = new Map<string, KeyObject>();
  private readonly secrets: SecretBox;

  constructor(
    private readonly repository: AuditLogRepository,
    keyring: SecretKeyring,
  ) {
    this.secrets = keyring.box('audit-signing-keys');
  }

  /**
   * The current key. Only a log with no key at all gets one generated here; a log whose keys are all
   * retired waits for an operator to rotate, rather than signing with a key nothing vouches for.
   */
  async current(m: Queryable, now: Date): Promise<CurrentSigningKey> {
    const keys = await this.repository.signingKeys(m);
    let row = keys.find((k) => k.validTo === null);
    if (!row && keys.length === 0) {
      // The sequencer lock keeps out another generator; the one-current-key index would refuse it too.
      await this.insert(m, generateKeyPairSync('ed25519').privateKey, now);
      row = (await this.repository.signingKeys(m)).find((k) => k.validTo === null);
    }
    if (!row) {
      throw new Error(
        'The audit log has no current signing key, only retired ones: an operator must rotate the key (townhall audit rotate-key)',
      );
    }
    return { keyId: row.keyId, validFrom: row.validFrom, privateKey: this.open(row) };
  }

  /**
   * Retires the current key at `time` and makes a new one current from then on, with a rotation record
   * signed by the old key (none when the log had no key yet: the new key is its first).
   */
  async rotate(m: Queryable, time: Date): Promise<AuditKeyRotation> {
    const old = (await this.repository.signingKeys(m)).find((k) => k.validTo === null);
    const next = generateKeyPairSync('ed25519').privateKey;
    const key = describeAuditKey(next, { validFrom: time.toISOString() });
    if (!old) {
      await this.insert(m, next, time);
      return { key, rotation: null };
    }
    const rotation = signKeyRotation({ time: key.validFrom, previousKeyId: old.keyId, key }, this.open(old));
    await this.repository.retireSigningKey(m, old.keyId, time);
    await this.insert(m, next, time);
    await this.repository.insertRotation(m, rotation);
    return { key, rotation };
  }

  /** Every key, current and retired, as the keys endpoint describes them. */
  async describeAll(m: Queryable): Promise<AuditKeyDescription[]> {
    return (await this.repository.publicSigningKeys(m)).map((row) => ({
      keyId: row.keyId,
      algorithm: AUDIT_KEY_ALGORITHM,
      publicKeyPem: row.publicKeyPem,
      validFrom: row.validFrom.toISOString(),
      validTo: row.validTo?.toISOString() ?? null,
    }));
  }

  private async insert(m: Queryable, privateKey: KeyObject, validFrom: Date): Promise<void> {
    const keyId = auditKeyId(privateKey);
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await this.repository.insertSigningKey(m, {
      keyId,
      publicKeyPem: publicKeyPem(privateKey),
      privateKeySealed: this.secrets.seal(pem, auditSigningKeyAad(keyId)),
      validFrom,
    });
  }

  private open(row: SigningKeyRow): KeyObject {
    let key = this.opened.get(row.keyId);
    if (!key) {
      key = createPrivateKey(this.secrets.open(row.privateKeySealed, auditSigningKeyAad(row.keyId)));
      this.opened.set(row.keyId, key);
    }
    return key;
  }
}
