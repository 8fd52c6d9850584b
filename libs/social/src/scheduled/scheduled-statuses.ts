import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { changedRows } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { type MediaRecord, mediaOfStatuses, ownMedia, refuseUnprocessed } from '../media/media-attachments';
import {
  checkPostInput,
  type Poster,
  type PostStatusInput,
  StatusCommands,
} from '../statuses/status-commands';
import { StatusError } from '../statuses/status-errors';
import { type PageRequest } from '../statuses/status-records';
import { ScheduledWorkRunner, scheduleWork, unscheduleWork } from './scheduled-work';

/** Mastodon's limits (ScheduledStatus::TOTAL_LIMIT, DAILY_LIMIT, MINIMUM_OFFSET). */
export const SCHEDULED_LIMITS = { total: 300, daily: 25, minimumOffsetMs: 5 * 60 * 1000 } as const;

/** A status waiting for its time (Mastodon's ScheduledStatus). */
export interface ScheduledStatusRecord {
  id: string;
  scheduledAt: Date;
  params: PostStatusInput & { applicationId: string | null };
  media: MediaRecord[];
}

type Row = {
  id: string;
  scheduled_at: Date;
  params: ScheduledStatusRecord['params'];
  application_id: string | null;
};

/**
 * Scheduled statuses: checked as a post is when scheduled (so it cannot fail later for bad input),
 * holding their media, changed or cancelled until their time, then published by a worker with the
 * scheduled work — in one transaction, so a crash publishes once or not at all.
 */
@Injectable()
export class ScheduledStatuses implements OnModuleInit {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly statuses: StatusCommands,
    private readonly runner: ScheduledWorkRunner,
  ) {}

  onModuleInit(): void {
    this.runner.register({
      kind: 'publish_status',
      run: (m, id, tenant) => this.publishIn(m, id, tenant.domain),
    });
  }

  async schedule(poster: Poster, input: PostStatusInput, scheduledAt: Date): Promise<ScheduledStatusRecord> {
    checkScheduledAt(scheduledAt);
    const checked = checkPostInput(input);
    return this.transactions.run(async (m) => {
      await m.query(`SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, [poster.accountId]);
      const [counts] = (await m.query(
        `SELECT count(*)::int AS total,
                count(*) FILTER (WHERE scheduled_at::date = $2::timestamptz::date)::int AS same_day
           FROM scheduled_statuses WHERE account_id = $1`,
        [poster.accountId, scheduledAt],
      )) as { total: number; same_day: number }[];
      if (counts.total >= SCHEDULED_LIMITS.total) throw invalid('Total limit of scheduled posts exceeded');
      if (counts.same_day >= SCHEDULED_LIMITS.daily) throw invalid('Daily limit of scheduled posts exceeded');
      const media = (await ownMedia(m, poster.accountId, checked.mediaIds, { lock: true })).filter(
        (a) => a.statusId === null,
      );
      refuseUnprocessed(media);
      const mediaIds = checked.mediaIds.filter((id) => media.some((a) => a.id === id));
      const [row] = (await m.query(
        `INSERT INTO scheduled_statuses (account_id, application_id, scheduled_at, params)
         VALUES ($1, $2, $3, $4) RETURNING id::text, scheduled_at, params, application_id::text`,
        [poster.accountId, poster.applicationId, scheduledAt, JSON.stringify({ ...input, mediaIds })],
      )) as Row[];
      if (mediaIds.length > 0) {
        await m.query(`UPDATE media_attachments SET scheduled_status_id = $1 WHERE id = ANY($2::bigint[])`, [
          row.id,
          mediaIds,
        ]);
      }
      await scheduleWork(m, 'publish_status', row.id, scheduledAt);
      return this.record(m, row);
    });
  }

  list(accountId: string, page: PageRequest): Promise<ScheduledStatusRecord[]> {
    return this.transactions.run(async (m) => {
      const rows = (await m.query(
        `SELECT id::text, scheduled_at, params, application_id::text FROM scheduled_statuses
          WHERE account_id = $1 AND ($3::bigint IS NULL OR id < $3) AND ($4::bigint IS NULL OR id > $4)
          ORDER BY id ${page.minId ? 'ASC' : 'DESC'} LIMIT $2`,
        [accountId, page.limit, page.maxId ?? null, page.minId ?? page.sinceId ?? null],
      )) as Row[];
      if (page.minId) rows.reverse();
      return Promise.all(rows.map((r) => this.record(m, r)));
    });
  }

  get(accountId: string, id: string): Promise<ScheduledStatusRecord> {
    return this.transactions.run(async (m) => this.record(m, await own(m, accountId, id)));
  }

  reschedule(accountId: string, id: string, scheduledAt: Date): Promise<ScheduledStatusRecord> {
    checkScheduledAt(scheduledAt);
    return this.transactions.run(async (m) => {
      await own(m, accountId, id, true);
      const [row] = changedRows<Row>(
        await m.query(
          `UPDATE scheduled_statuses SET scheduled_at = $2 WHERE id = $1
           RETURNING id::text, scheduled_at, params, application_id::text`,
          [id, scheduledAt],
        ),
      );
      await scheduleWork(m, 'publish_status', id, scheduledAt);
      return this.record(m, row);
    });
  }

  /** Cancels; its media are free to attach elsewhere again. */
  async cancel(accountId: string, id: string): Promise<void> {
    await this.transactions.run(async (m) => {
      await own(m, accountId, id, true);
      await m.query(
        `UPDATE media_attachments SET scheduled_status_id = NULL WHERE scheduled_status_id = $1`,
        [id],
      );
      await m.query(`DELETE FROM scheduled_statuses WHERE id = $1`, [id]);
      await unscheduleWork(m, 'publish_status', id);
    });
  }

  /** Publishes in the worker's transaction; a scheduled status already cancelled does nothing. */
  private async publishIn(m: EntityManager, id: string, domain: string): Promise<void> {
    const [row] = changedRows<{
      id: string;
      account_id: string;
      application_id: string | null;
      params: PostStatusInput;
    }>(
      await m.query(
        `DELETE FROM scheduled_statuses WHERE id = $1 RETURNING id::text, account_id::text, application_id::text, params`,
        [id],
      ),
    );
    if (!row) return;
    await m.query(`UPDATE media_attachments SET scheduled_status_id = NULL WHERE scheduled_status_id = $1`, [
      id,
    ]);
    await this.statuses.postIn(
      m,
      { accountId: row.account_id, applicationId: row.application_id, domain },
      row.params,
    );
  }

  private async record(m: EntityManager, row: Row): Promise<ScheduledStatusRecord> {
    const mediaIds = row.params.mediaIds ?? [];
    const media = (await mediaOfStatuses(m, [{ id: row.id, mediaIds }])).get(row.id) ?? [];
    return {
      id: row.id,
      scheduledAt: row.scheduled_at,
      params: { ...row.params, applicationId: row.application_id },
      media,
    };
  }
}

async function own(m: EntityManager, accountId: string, id: string, lock = false): Promise<Row> {
  if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
  const [row] = (await m.query(
    `SELECT id::text, scheduled_at, params, application_id::text FROM scheduled_statuses
      WHERE id = $1 AND account_id = $2 ${lock ? 'FOR UPDATE' : ''}`,
    [id, accountId],
  )) as Row[];
  if (!row) throw new StatusError('not_found', 'Record not found');
  return row;
}

function invalid(problem: string): StatusError {
  return new StatusError('validation_failed', `Validation failed: ${problem}`);
}

/** Mastodon: at least five minutes ahead. */
function checkScheduledAt(at: Date): void {
  if (Number.isNaN(at.getTime())) throw invalid('Scheduled at is not a valid date');
  if (at.getTime() - Date.now() < SCHEDULED_LIMITS.minimumOffsetMs) {
    throw invalid('Scheduled at The scheduled date must be in the future');
  }
}
