import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditedTransactions, AuditOwnerConnection, AuditSubjectCipher } from '@townhall/compliance';
import {
  resolveSecretKey,
  SecretKeyring,
  secretKeyCheck,
  secretKeyId,
  TOWNHALL_CONFIG,
  type TownhallConfig,
} from '@townhall/core';
import { PROCESS_SESSION_MARK, sqlState } from '@townhall/persistence';
import { PlatformError } from '../platform.errors';
import { resealCatalogue, UnopenedSecretError, type RotationProgress } from './reseal';
import { readSecretKeyCheck, secretKeyProblem, select } from './secret-key-check';

const ACTION = 'secret_key.rotate';

export interface SecretKeyRotation {
  previousKeyId: string;
  keyId: string;
  /** What was re-sealed, by kind, in the order it was done. */
  resealed: { label: string; count: number }[];
}

/** Where crash tests stop a rotation (TOWNHALL_FAULT_CRASH_IN_KEY_ROTATION): after each kind, and after the commit. */
type CrashPoint = 'platform_secrets' | 'tenant_secrets' | 'check_value' | 'committed';

/**
 * Replaces the platform's secret key (`townhall secret-key rotate`). In one transaction on the owner's
 * connection: every value sealed with a subkey of the old key is sealed again with the same subkey of
 * the new one (actor keys, audit signing keys, audit period keys, the legacy lookup key), the key check
 * value is replaced, and the rotation is recorded. Audit subjects stay as they are: their keys are
 * wrapped under the period keys, and their lookup digests keyed by them. A crash at any point leaves the platform opening with
 * exactly one of the two keys: the old one before the commit, the new one after it.
 *
 * Every other Townhall process must be stopped first: they hold the old key, and would seal new data
 * with it. The rotation refuses to start while another process is connected to the database.
 */
@Injectable()
export class RotateSecretKey {
  constructor(
    private readonly audited: AuditedTransactions,
    private readonly owner: AuditOwnerConnection,
    private readonly keyring: SecretKeyring,
    private readonly cipher: AuditSubjectCipher,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** Rotates from the key this process was started with to `next`; `progress` hears how far it is. */
  async run(
    next: Buffer,
    progress: (p: RotationProgress) => void = () => undefined,
  ): Promise<SecretKeyRotation> {
    const keyId = secretKeyId(next);
    const resealed: SecretKeyRotation['resealed'] = [];
    const result = await this.audited.run(
      {
        apply: (manager) => this.begin(manager, next),
        recorded: ({ previousKeyId }) => ({
          action: ACTION,
          tenant: null,
          target: { type: 'secret_key', id: keyId },
          details: { previousKeyId },
        }),
        // After the entry, so that its own side-table rows are sealed with the new key too.
        complete: async (manager) => {
          const { kinds, legacyLookupKeySealed } = await this.resealEverything(manager, next, progress);
          resealed.push(...kinds);
          const check = secretKeyCheck(next);
          await manager.query(
            `UPDATE platform.secret_key_check
                SET format = $1, key_id = $2, check_value = $3, created_at = now(),
                    audit_legacy_lookup_key_sealed = $4
              WHERE id = 1`,
            [check.format, check.keyId, check.value, legacyLookupKeySealed],
          );
          this.crashAt('check_value');
        },
        refused: () => ({ action: ACTION, tenant: null, target: { type: 'secret_key', id: keyId } }),
      },
      await this.owner.dataSource(),
    );
    this.crashAt('committed');
    return { previousKeyId: result.previousKeyId, keyId, resealed };
  }

  /** Holds the key check row until the commit, and refuses what must not be rotated. */
  private async begin(manager: EntityManager, next: Buffer): Promise<{ previousKeyId: string }> {
    const stored = await readSecretKeyCheck(manager, 'FOR UPDATE');
    const current = resolveSecretKey(this.config);
    if (!stored || secretKeyProblem(this.config, current, stored) !== null) {
      throw new PlatformError(
        'secret_key_mismatch',
        'The platform’s secret key is no longer the key this command started with (was it rotated meanwhile?).',
      );
    }
    if (next.equals(current)) {
      throw new PlatformError('secret_key_unchanged', 'The new key is the key in use.');
    }
    // Sessions of other processes, also of versions that named them without a process mark.
    const others = await select<{ name: string }>(
      manager,
      `SELECT DISTINCT application_name AS name FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND application_name ~ '^townhall(-[a-z]+)?(/[0-9a-f]+)?$' AND application_name NOT LIKE '%/' || $1
        ORDER BY 1`,
      [PROCESS_SESSION_MARK],
    );
    if (others.length > 0) {
      const names = others.map((o) => o.name);
      throw new PlatformError(
        'platform_in_use',
        `Other Townhall processes are connected to the database (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}): stop every server, worker and command, then rotate.`,
      );
    }
    return { previousKeyId: stored.keyId };
  }

  private async resealEverything(
    manager: EntityManager,
    next: Buffer,
    progress: (p: RotationProgress) => void,
  ): Promise<{ kinds: SecretKeyRotation['resealed']; legacyLookupKeySealed: string | null }> {
    const to = new SecretKeyring(next);
    let kinds: SecretKeyRotation['resealed'];
    try {
      kinds = await resealCatalogue(
        manager,
        this.config,
        (column, sealed, aad) =>
          to.box(column.purpose).seal(this.keyring.box(column.purpose).open(sealed, aad), aad),
        progress,
        (kind) => this.crashAt(kind === 'platform' ? 'platform_secrets' : 'tenant_secrets'),
      );
    } catch (err) {
      if (err instanceof UnopenedSecretError) {
        throw new PlatformError(
          'secret_does_not_open',
          `${err.message}, although the current key opened the platform's other secrets: nothing was changed; restore that value from a backup, or delete it if it is not needed, then rotate.`,
        );
      }
      if (sqlState(err) !== '42501') throw err;
      const role = this.config.database.appRole;
      throw new PlatformError(
        'owner_cannot_act_as_application_role',
        `The owner (DATABASE_URL) may not act as the application role "${role}", which owns the tenant schemas: grant it the role (GRANT ${role} TO <owner>) or CREATEROLE, then rotate.`,
      );
    }
    return { kinds, legacyLookupKeySealed: this.cipher.successor(to).sealedLegacyKey() };
  }

  private crashAt(point: CrashPoint): void {
    if (this.config.faults.crashInSecretKeyRotation === point) process.kill(process.pid, 'SIGKILL');
  }
}
