import { createPublicKey, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { checkpointNote, noteVerifierKey, type AuditCheckpoint } from '../../checkpoint';
import { formatSignatureLine } from '../../witness/signed-note';
import { AuditLogRepository } from '../audit-log.repository';

/**
 * The log's checkpoints as C2SP signed notes — the form witnesses take them in and anyone can compare:
 * the note text, the log's own signature line and the witnesses' cosignature lines — and the log's
 * verifier keys (`<origin>+<key ID>+<key>`) that a witness is configured with.
 */
@Injectable()
export class CheckpointNotes {
  /** Public keys by key id: a checkpoint is turned into a note on every submission and every read. */
  private readonly keys = new Map<string, KeyObject>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: AuditLogRepository,
  ) {}

  /** The signed note of `cp`, with the cosignatures it carries when `cosigned`. */
  async note(cp: AuditCheckpoint, cosigned: boolean): Promise<string> {
    const note = checkpointNote(cp, await this.publicKey(cp.keyId));
    return cosigned ? note + (cp.cosignatures ?? []).map(formatSignatureLine).join('') : note;
  }

  async latest(): Promise<string | null> {
    const newest = await this.repository.newestCheckpoint(this.dataSource);
    return newest ? this.note(newest, true) : null;
  }

  /** The checkpoint of tree size `size` (the last signed, should there be several), or null. */
  async ofSize(size: number): Promise<string | null> {
    const found = await this.repository.checkpointsBetween(this.dataSource, size, size);
    return found.length > 0 ? this.note(found[found.length - 1], true) : null;
  }

  /** One verifier key per signing key, current and retired, oldest first. */
  async verifierKeys(origin: string): Promise<string[]> {
    const rows = await this.repository.publicSigningKeys(this.dataSource);
    return rows.map((row) => noteVerifierKey(origin, createPublicKey(row.publicKeyPem)));
  }

  private async publicKey(keyId: string): Promise<KeyObject> {
    let key = this.keys.get(keyId);
    if (!key) {
      for (const row of await this.repository.publicSigningKeys(this.dataSource)) {
        this.keys.set(row.keyId, createPublicKey(row.publicKeyPem));
      }
      key = this.keys.get(keyId);
      if (!key) throw new Error(`The audit log has no signing key ${keyId}`);
    }
    return key;
  }
}
