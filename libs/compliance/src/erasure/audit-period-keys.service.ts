import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import { nextPeriodStart, rowsOf } from './audit-period-keys';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A period key as an operator sees it: never the key, only its life and what depends on it. */
export interface PeriodKeyStatus {
  id: string;
  startsAt: Date;
  createdAt: Date;
  destroyedAt: Date | null;
  /** Live subjects wrapped under it. */
  subjects: number;
  /** Subjects erased while wrapped under it. */
  erased: number;
  /**
   * From when no copy of the database can open what this key wrapped any more: its destruction plus
   * the backup retention (TOWNHALL_BACKUP_RETENTION_DAYS). While the key lives: the earliest that can
   * be, if the rotation after the current period destroys it (an operator may start a period sooner).
   */
  finalFrom: Date;
}

/**
 * What the audit period keys say about erasures (docs/compliance.md, "Erasure and backups"): which
 * key a subject's erasure waits for, and from when it is final. Reads only; no key leaves the database.
 */
@Injectable()
export class AuditPeriodKeys {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** Every period key, oldest first, with `now` deciding the expected date of keys still alive. */
  async list(now = new Date()): Promise<PeriodKeyStatus[]> {
    const rows = await rowsOf<Omit<PeriodKeyStatus, 'finalFrom'> & { live: boolean }>(
      this.dataSource,
      `SELECT k.id::text AS id, k.starts_at AS "startsAt", k.created_at AS "createdAt",
              k.destroyed_at AS "destroyedAt",
              count(s.id) FILTER (WHERE s.key_sealed IS NOT NULL)::int AS subjects,
              count(s.id) FILTER (WHERE s.erased_at IS NOT NULL)::int AS erased
         FROM platform.audit_period_keys k LEFT JOIN platform.audit_subjects s ON s.period_key_id = k.id
        GROUP BY k.id ORDER BY k.starts_at, k.id`,
    );
    const retention = this.config.audit.backupRetentionDays * DAY_MS;
    return rows.map(({ id, startsAt, createdAt, destroyedAt, subjects, erased }) => ({
      id,
      startsAt,
      createdAt,
      destroyedAt,
      subjects,
      erased,
      finalFrom: new Date((destroyedAt ?? nextPeriodStart(now)).getTime() + retention),
    }));
  }

  /** The status of the key a subject's data key was wrapped under (`AuditSubjects.erase` names it). */
  async of(periodKeyId: string, now = new Date()): Promise<PeriodKeyStatus | null> {
    return (await this.list(now)).find((k) => k.id === periodKeyId) ?? null;
  }
}
