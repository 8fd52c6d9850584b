import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  AuditedTransactions,
  AuditOwnerConnection,
  AuditSubjectCipher,
  rekeyAuditSubjects,
} from '@townhall/compliance';
import {
  resolveSecretKey,
  SecretBox,
  secretKeyCheck,
  secretKeyId,
  TOWNHALL_CONFIG,
  type TownhallConfig,
} from '@townhall/core';
import {
  ensureOwnerMayActAs,
  PLATFORM_SEALED_COLUMNS,
  PROCESS_SESSION_MARK,
  sqlState,
  TENANT_SEALED_COLUMNS,
  type SealedColumn,
} from '@townhall/persistence';
import { PlatformError } from '../platform.errors';
import {
  readSecretKeyCheck,
  sealedTable,
  secretKeyProblem,
  select,
  selectList,
  tenantSchemasWith,
} from './secret-key-check';

const ACTION = 'secret_key.rotate';
/** Rows re-sealed per statement: bounded memory whatever the size of a table. */
const BATCH = 500;

/** How far a rotation is: `done` of `total` items of one kind (rows, or tenant schemas). */
export interface RotationProgress {
  label: string;
  done: number;
  total: number;
}

export interface SecretKeyRotation {
  previousKeyId: string;
  keyId: string;
  /** What was re-sealed, by kind, in the order it was done. */
  resealed: { label: string; count: number }[];
}

/** Where crash tests stop a rotation (TOWNHALL_FAULT_CRASH_IN_KEY_ROTATION): after each kind, and after the commit. */
type CrashPoint = 'platform_secrets' | 'tenant_secrets' | 'audit_subjects' | 'check_value' | 'committed';

/**
 * Replaces the platform's secret key (`townhall secret-key rotate`). In one transaction on the owner's
 * connection: every value sealed with the old key is sealed again with the new one (actor keys, audit
 * signing keys, audit subject keys — their lookup digests recomputed under the new key), the key check
 * value is replaced, and the rotation is recorded. A crash at any point leaves the platform opening with
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
    private readonly box: SecretBox,
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
    const to = new SecretBox(next);
    const done: SecretKeyRotation['resealed'] = [];
    for (const column of PLATFORM_SEALED_COLUMNS) {
      const [{ n }] = await select<{ n: number }>(
        manager,
        `SELECT count(*)::int AS n FROM ${column.table} WHERE ${column.column} IS NOT NULL`,
      );
      const count = await this.resealColumn(manager, column, null, to, (rows) =>
        progress({ label: column.label, done: rows, total: n }),
      );
      done.push({ label: column.label, count });
    }
    this.crashAt('platform_secrets');

    const role = this.config.database.appRole;
    for (const column of TENANT_SEALED_COLUMNS) {
      const schemas = await tenantSchemasWith(manager, column);
      // Tenant schemas belong to the application role; the owner acts as it there.
      if (role && schemas.length > 0) await this.actAsApplicationRole(manager, role);
      let count = 0;
      for (const [i, schema] of schemas.entries()) {
        if (role) await manager.query(`SET LOCAL ROLE ${role}`);
        count += await this.resealColumn(manager, column, schema, to, () => undefined);
        if (role) await manager.query(`SET LOCAL ROLE NONE`);
        progress({ label: `${column.label} (tenant schemas)`, done: i + 1, total: schemas.length });
      }
      done.push({ label: column.label, count });
    }
    this.crashAt('tenant_secrets');

    let total = 0;
    const subjects = await rekeyAuditSubjects(manager, this.cipher, next, {
      total: (n) => (total = n),
      done: (n) => {
        progress({ label: 'audit subjects', done: n, total });
        this.crashAt('audit_subjects');
      },
    });
    done.push({ label: 'audit subjects', count: subjects.subjects });
    return { kinds: done, legacyLookupKeySealed: subjects.cipher.sealedLegacyKey() };
  }

  private async actAsApplicationRole(manager: EntityManager, role: string): Promise<void> {
    try {
      await ensureOwnerMayActAs(manager, role);
    } catch (err) {
      if (sqlState(err) !== '42501') throw err;
      throw new PlatformError(
        'owner_cannot_act_as_application_role',
        `The owner (DATABASE_URL) may not act as the application role "${role}", which owns the tenant schemas: grant it the role (GRANT ${role} TO <owner>) or CREATEROLE, then rotate.`,
      );
    }
  }

  /** Seals every value of `column` (in `schema` for a tenant table) again, same plaintext, same binding. */
  private async resealColumn(
    manager: EntityManager,
    column: SealedColumn,
    schema: string | null,
    to: SecretBox,
    progress: (rows: number) => void,
  ): Promise<number> {
    const table = sealedTable(column, schema);
    const key = column.key;
    let after: string | null = null;
    let count = 0;
    for (;;) {
      const rows: Record<string, string>[] = await select<Record<string, string>>(
        manager,
        `SELECT ${selectList(column)} FROM ${table}
          WHERE ${column.column} IS NOT NULL ${after === null ? '' : `AND ${key.column} > $1::${key.type}`}
          ORDER BY ${key.column} LIMIT ${BATCH}`,
        after === null ? [] : [after],
      );
      if (rows.length === 0) return count;
      const sealed = rows.map((row) => {
        const aad = column.aad(row, schema ?? '');
        return to.seal(this.box.open(row[column.column], aad), aad);
      });
      await manager.query(
        `UPDATE ${table} t SET ${column.column} = v.sealed
           FROM unnest($1::text[], $2::text[]) AS v(key, sealed) WHERE t.${key.column} = v.key::${key.type}`,
        [rows.map((r) => r[key.column]), sealed],
      );
      count += rows.length;
      after = rows[rows.length - 1][key.column];
      progress(count);
    }
  }

  private crashAt(point: CrashPoint): void {
    if (this.config.faults.crashInSecretKeyRotation === point) process.kill(process.pid, 'SIGKILL');
  }
}
