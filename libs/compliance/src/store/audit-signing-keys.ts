import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SecretBox, SecretKeyring } from '@townhall/core';
import { auditSigningKeyAad } from '@townhall/persistence';
import {
  AUDIT_KEY_ALGORITHM,
  auditKeyId,
  describeAuditKey,
  keyObjectSigner,
  publicKeyPem,
  signKeyRotationWith,
  type AuditKeyDescription,
  type AuditSigner,
  type KeyRotationRecord,
} from '../audit-keys';
import { AuditLogRepository, type Queryable, type SigningKeyRow } from './audit-log.repository';
import { ExternalAuditSigners } from './external-audit-signers';

/** The key that signs now. */
export interface CurrentSigningKey {
  keyId: string;
  validFrom: Date;
  signer: AuditSigner;
}

/** The key that is current after a rotation, and the record that vouches for it (null for a first key). */
export interface AuditKeyRotation {
  key: AuditKeyDescription;
  rotation: KeyRotationRecord | null;
}

/** A key about to become current: its public half, and its private half sealed when Townhall keeps it. */
interface IncomingKey {
  publicKey: KeyObject;
  sealed: string | null;
}

/**
 * The platform's Ed25519 audit signing keys: one current key (the log's first made on first use), the
 * retired ones with their windows, and rotation. A key is held either in the database — generated here,
 * its private half sealed with the platform secret key's subkey for them and bound to its key id, so it cannot be moved
 * to another key's row and opened there — or outside it, by a signer of the module configured in
 * TOWNHALL_AUDIT_SIGNER_MODULE (`ExternalAuditSigners`): a KMS or an HSM, whose private keys Townhall
 * never sees. With such a module, new keys come from it. Retiring a key deletes its private half, so a
 * rotation limits what a copy of the database can sign from then on. Callers that sign or rotate hold
 * the sequencer lock on the owner's connection, so signing and rotating never interleave.
 */
@Injectable()
export class AuditSigningKeys {
  /** Opened private keys by key id: opening costs an AES-GCM decryption and a key parse per checkpoint. */
  private readonly opened = new Map<string, KeyObject>();
  private readonly secrets: SecretBox;

  constructor(
    private readonly repository: AuditLogRepository,
    keyring: SecretKeyring,
    private readonly external: ExternalAuditSigners,
  ) {
    this.secrets = keyring.box('audit-signing-keys');
  }

  /**
   * The current key. Only a log with no key at all gets one here (the signer module's, if there is one
   * and it offers exactly one key); a log whose keys are all retired waits for an operator to rotate,
   * rather than signing with a key nothing vouches for.
   */
  async current(m: Queryable, now: Date): Promise<CurrentSigningKey> {
    const keys = await this.repository.signingKeys(m);
    let row = keys.find((k) => k.validTo === null);
    if (!row && keys.length === 0) {
      // The sequencer lock keeps out another process; the one-current-key index would refuse it too.
      await this.insert(m, await this.incoming(keys, null), now);
      row = (await this.repository.signingKeys(m)).find((k) => k.validTo === null);
    }
    if (!row) {
      throw new Error(
        'The audit log has no current signing key, only retired ones: an operator must rotate the key (townhall audit rotate-key)',
      );
    }
    return { keyId: row.keyId, validFrom: row.validFrom, signer: await this.signerOf(row) };
  }

  /**
   * Retires the current key at `time` — deleting its private half — and makes a new one current from
   * then on, with a rotation record signed by the old key (none when the log had no key yet: the new
   * key is its first). The new key is one Townhall generates, or with a signer module the module's key
   * `nextKeyId` (which may be left out when the module offers exactly one key not used before).
   */
  async rotate(m: Queryable, time: Date, nextKeyId: string | null = null): Promise<AuditKeyRotation> {
    const keys = await this.repository.signingKeys(m);
    const old = keys.find((k) => k.validTo === null);
    const next = await this.incoming(keys, nextKeyId);
    const key = describeAuditKey(next.publicKey, { validFrom: time.toISOString() });
    if (!old) {
      await this.insert(m, next, time);
      return { key, rotation: null };
    }
    const rotation = await signKeyRotationWith(
      { time: key.validFrom, previousKeyId: old.keyId, key },
      await this.signerOf(old),
    );
    await this.repository.retireSigningKey(m, old.keyId, time);
    this.opened.delete(old.keyId);
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

  /** The key to make current next: generated here, or one the signer module offers and the log never had. */
  private async incoming(keys: readonly SigningKeyRow[], nextKeyId: string | null): Promise<IncomingKey> {
    if (!this.external.configured) {
      if (nextKeyId !== null) {
        throw new Error(
          `Key ${nextKeyId} cannot be chosen: new audit keys are generated by Townhall unless a signer module holds them (TOWNHALL_AUDIT_SIGNER_MODULE)`,
        );
      }
      const privateKey = generateKeyPairSync('ed25519').privateKey;
      const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
      return {
        publicKey: privateKey,
        sealed: this.secrets.seal(pem, auditSigningKeyAad(auditKeyId(privateKey))),
      };
    }
    const used = new Set(keys.map((k) => k.keyId));
    const fresh = [...(await this.external.all()).entries()].filter(([id]) => !used.has(id));
    const ids = fresh.map(([id]) => id);
    const chosen =
      nextKeyId === null
        ? fresh.length === 1
          ? fresh[0]
          : undefined
        : fresh.find(([id]) => id === nextKeyId);
    if (!chosen) {
      throw new Error(
        nextKeyId !== null
          ? `The audit signer module offers no key ${nextKeyId} that this log has not used (it offers ${ids.join(', ') || 'none'})`
          : fresh.length === 0
            ? 'The audit signer module offers no key this log has not used: add a new key to it first'
            : `The audit signer module offers several new keys (${ids.join(', ')}): name one (townhall audit rotate-key --key-id ID)`,
      );
    }
    return { publicKey: chosen[1].publicKey, sealed: null };
  }

  private async insert(m: Queryable, key: IncomingKey, validFrom: Date): Promise<void> {
    await this.repository.insertSigningKey(m, {
      keyId: auditKeyId(key.publicKey),
      publicKeyPem: publicKeyPem(key.publicKey),
      privateKeySealed: key.sealed,
      validFrom,
    });
  }

  /** Who signs with the key of `row`: its private half sealed here, or the signer module's signer. */
  private async signerOf(row: SigningKeyRow): Promise<AuditSigner> {
    if (row.privateKeySealed !== null) {
      let key = this.opened.get(row.keyId);
      if (!key) {
        key = createPrivateKey(this.secrets.open(row.privateKeySealed, auditSigningKeyAad(row.keyId)));
        this.opened.set(row.keyId, key);
      }
      return keyObjectSigner(key);
    }
    const signer = (await this.external.all()).get(row.keyId);
    if (!signer) {
      throw new Error(
        `The audit signing key ${row.keyId} is held outside the database, and ${
          this.external.configured
            ? 'the audit signer module (TOWNHALL_AUDIT_SIGNER_MODULE) offers no signer for it'
            : 'no audit signer module is configured (TOWNHALL_AUDIT_SIGNER_MODULE)'
        }: nothing is signed with it until one does`,
      );
    }
    return signer;
  }
}
