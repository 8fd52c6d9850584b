import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { checkText } from '@townhall/core';
import { changedRows, preparedQuery } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { wantsNotification } from '../notifications/notification-rules';
import { ScheduledWorkRunner, scheduleWork, unscheduleWork } from '../scheduled/scheduled-work';
import { StatusError } from '../statuses/status-errors';
import { findVisibleStatuses } from '../statuses/status-records';

/** Mastodon's poll limits, as the instance entity announces them. */
export const POLL_LIMITS = {
  maxOptions: 4,
  maxCharactersPerOption: 50,
  minExpiration: 300,
  maxExpiration: 2_629_746,
} as const;

/** A poll as a status carries it (Mastodon's Poll entity, before it is shown to one viewer). */
export interface PollRecord {
  id: string;
  statusId: string;
  accountId: string;
  options: string[];
  tallies: number[];
  multiple: boolean;
  hideTotals: boolean;
  votesCount: number;
  votersCount: number;
  expiresAt: Date | null;
  /** The viewer's choices, or null when nobody is signed in. */
  ownVotes: number[] | null;
}

export interface PollInput {
  options?: unknown;
  expiresIn?: unknown;
  multiple?: boolean;
  hideTotals?: boolean;
}

/** A poll's options and duration checked as Mastodon's PollValidator does. */
export function checkPoll(input: PollInput): {
  options: string[];
  expiresIn: number;
  multiple: boolean;
  hideTotals: boolean;
} {
  const problems: string[] = [];
  const raw = Array.isArray(input.options) ? input.options : [];
  if (raw.length < 2) problems.push('Poll must have at least 2 options');
  if (raw.length > POLL_LIMITS.maxOptions)
    problems.push(`Poll cannot have more than ${POLL_LIMITS.maxOptions} options`);
  const options = raw.map((o) => {
    const checked = checkText(o, { field: 'Poll option', maxLength: POLL_LIMITS.maxCharactersPerOption });
    if (checked.problem !== undefined) problems.push(checked.problem);
    return checked.text ?? '';
  });
  if (new Set(options).size < options.length) problems.push('Poll contains duplicate options');
  const expiresIn =
    typeof input.expiresIn === 'string' && /^\d{1,9}$/.test(input.expiresIn)
      ? Number(input.expiresIn)
      : input.expiresIn;
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn)) {
    problems.push('Poll expiration must be a number of seconds');
  } else if (expiresIn < POLL_LIMITS.minExpiration) {
    problems.push('Poll duration is too short');
  } else if (expiresIn > POLL_LIMITS.maxExpiration) {
    problems.push('Poll duration is too long');
  }
  if (problems.length > 0)
    throw new StatusError('validation_failed', `Validation failed: ${problems.join(', ')}`);
  return {
    options,
    expiresIn: expiresIn as number,
    multiple: input.multiple === true,
    hideTotals: input.hideTotals === true,
  };
}

/** Writes a status's poll in the posting transaction and links the status to it. */
export async function createPoll(
  m: EntityManager,
  statusId: string,
  accountId: string,
  poll: ReturnType<typeof checkPoll>,
): Promise<void> {
  const [{ id, expires_at }] = (await m.query(
    `INSERT INTO polls (status_id, account_id, options, tallies, multiple, hide_totals, expires_at)
     VALUES ($1, $2, $3::text[], array_fill(0, ARRAY[cardinality($3::text[])]), $4, $5, now() + make_interval(secs => $6))
     RETURNING id::text, expires_at`,
    [statusId, accountId, poll.options, poll.multiple, poll.hideTotals, poll.expiresIn],
  )) as { id: string; expires_at: Date }[];
  await m.query(`UPDATE statuses SET poll_id = $2 WHERE id = $1`, [statusId, id]);
  await scheduleWork(m, 'poll_ended', id, expires_at);
}

/**
 * A status's poll as an edit leaves it (Mastodon's UpdateStatusService#update_poll!): `null` removes it,
 * a poll replaces it — its votes are dropped when the options or `multiple` change, as such votes no
 * longer mean what they meant, and it runs for `expires_in` from now. In the edit's transaction; says
 * whether the poll changed (an edit that sends a poll always moves its end, as Mastodon's does).
 */
export async function editPoll(
  m: EntityManager,
  statusId: string,
  accountId: string,
  poll: ReturnType<typeof checkPoll> | null,
): Promise<boolean> {
  const [previous] = (await m.query(
    `SELECT id::text, options, multiple FROM polls WHERE status_id = $1 FOR UPDATE`,
    [statusId],
  )) as { id: string; options: string[]; multiple: boolean }[];
  if (poll === null) {
    if (!previous) return false;
    await unscheduleWork(m, 'poll_ended', previous.id);
    await m.query(`UPDATE statuses SET poll_id = NULL WHERE id = $1`, [statusId]);
    await m.query(`DELETE FROM polls WHERE id = $1`, [previous.id]);
    return true;
  }
  if (!previous) {
    await createPoll(m, statusId, accountId, poll);
    return true;
  }
  const reset =
    previous.multiple !== poll.multiple ||
    previous.options.length !== poll.options.length ||
    previous.options.some((option, i) => option !== poll.options[i]);
  if (reset) await m.query(`DELETE FROM poll_votes WHERE poll_id = $1`, [previous.id]);
  const [{ expires_at }] = changedRows<{ expires_at: Date }>(
    await m.query(
      `UPDATE polls SET options = $2::text[], multiple = $3, hide_totals = $4,
            expires_at = now() + make_interval(secs => $5),
            tallies = CASE WHEN $6 THEN array_fill(0, ARRAY[cardinality($2::text[])]) ELSE tallies END,
            votes_count = CASE WHEN $6 THEN 0 ELSE votes_count END,
            voters_count = CASE WHEN $6 THEN 0 ELSE voters_count END
      WHERE id = $1 RETURNING expires_at`,
      [previous.id, poll.options, poll.multiple, poll.hideTotals, poll.expiresIn, reset],
    ),
  );
  await scheduleWork(m, 'poll_ended', previous.id, expires_at);
  return true;
}

type PollRow = {
  id: string;
  status_id: string;
  account_id: string;
  options: string[];
  tallies: number[];
  multiple: boolean;
  hide_totals: boolean;
  votes_count: number;
  voters_count: number;
  expires_at: Date | null;
  own_votes: number[] | null;
};

/** The polls of these statuses, with the viewer's own votes, by status id. */
export async function pollsOfStatuses(
  m: EntityManager,
  statusIds: readonly string[],
  viewer: string | null,
): Promise<Map<string, PollRecord>> {
  if (statusIds.length === 0) return new Map();
  const rows = await preparedQuery<PollRow>(
    m,
    `SELECT p.id::text, p.status_id::text, p.account_id::text, p.options, p.tallies, p.multiple, p.hide_totals,
            p.votes_count, p.voters_count, p.expires_at,
            CASE WHEN $2::bigint IS NULL THEN NULL ELSE
              ARRAY(SELECT v.choice::int FROM poll_votes v WHERE v.poll_id = p.id AND v.account_id = $2 ORDER BY v.choice) END AS own_votes
       FROM polls p WHERE p.status_id = ANY($1::bigint[])`,
    [statusIds, viewer],
  );
  return new Map(
    rows.map((r) => [
      r.status_id,
      {
        id: r.id,
        statusId: r.status_id,
        accountId: r.account_id,
        options: r.options,
        tallies: r.tallies,
        multiple: r.multiple,
        hideTotals: r.hide_totals,
        votesCount: r.votes_count,
        votersCount: r.voters_count,
        expiresAt: r.expires_at,
        ownVotes: r.own_votes,
      },
    ]),
  );
}

/**
 * Polls (Mastodon's PollsController and VoteService): read one on a status the viewer may see, and
 * vote — once, before it ends, not in one's own poll, one choice unless it allows several.
 */
@Injectable()
export class Polls implements OnModuleInit {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly runner: ScheduledWorkRunner,
  ) {}

  onModuleInit(): void {
    this.runner.register({ kind: 'poll_ended', run: (m, id) => notifyPollEnded(m, id) });
  }

  get(viewer: string | null, id: string): Promise<PollRecord> {
    return this.transactions.run((m) => visiblePoll(m, viewer, id));
  }

  vote(voter: string, id: string, choices: number[]): Promise<PollRecord> {
    return this.transactions.run(async (m) => {
      const poll = await visiblePoll(m, voter, id, true);
      const refuse = (why: string) => new StatusError('validation_failed', `Validation failed: ${why}`);
      if (poll.expiresAt !== null && poll.expiresAt.getTime() <= Date.now())
        throw refuse('The poll has already ended');
      if (poll.accountId === voter) throw refuse('You cannot vote in your own poll');
      if ((poll.ownVotes ?? []).length > 0) throw refuse('You have already voted on this poll');
      const unique = [...new Set(choices)];
      if (
        unique.length === 0 ||
        unique.some((c) => !Number.isInteger(c) || c < 0 || c >= poll.options.length)
      ) {
        throw refuse('The chosen vote option does not exist');
      }
      if (!poll.multiple && unique.length > 1) throw refuse('You have already voted on this poll');
      await m.query(`INSERT INTO poll_votes (poll_id, account_id, choice) SELECT $1, $2, unnest($3::int[])`, [
        poll.id,
        voter,
        unique,
      ]);
      await m.query(
        `UPDATE polls SET tallies = (SELECT array_agg(t + CASE WHEN (i - 1) = ANY($2::int[]) THEN 1 ELSE 0 END ORDER BY i)
                                       FROM unnest(tallies) WITH ORDINALITY AS x(t, i)),
                votes_count = votes_count + cardinality($2::int[]), voters_count = voters_count + 1
          WHERE id = $1`,
        [poll.id, unique],
      );
      return visiblePoll(m, voter, id);
    });
  }
}

/** A poll whose status the viewer may see (404 otherwise); `lock` holds its row until the vote commits. */
async function visiblePoll(
  m: EntityManager,
  viewer: string | null,
  id: string,
  lock = false,
): Promise<PollRecord> {
  if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
  const [row] = (await m.query(
    `SELECT status_id::text FROM polls WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`,
    [id],
  )) as {
    status_id: string;
  }[];
  if (!row || (await findVisibleStatuses(m, [row.status_id], viewer)).length === 0) {
    throw new StatusError('not_found', 'Record not found');
  }
  return (await pollsOfStatuses(m, [row.status_id], viewer)).get(row.status_id)!;
}

/**
 * When a poll ends, its author and the local accounts that voted get a `poll` notification (Mastodon's
 * PollExpirationNotifyWorker), unless the poll's status is gone or they do not want to hear from it.
 */
async function notifyPollEnded(m: EntityManager, pollId: string): Promise<void> {
  await m.query(
    `INSERT INTO notifications (account_id, from_account_id, type, status_id)
     SELECT who.id, p.account_id, 'poll', p.status_id
       FROM polls p JOIN statuses s ON s.id = p.status_id AND s.deleted_at IS NULL
       CROSS JOIN LATERAL (
         SELECT p.account_id AS id
         UNION SELECT DISTINCT v.account_id FROM poll_votes v WHERE v.poll_id = p.id) who
       JOIN accounts a ON a.id = who.id AND a.domain IS NULL
      WHERE p.id = $1 AND (who.id = p.account_id OR ${wantsNotification('who.id', 'p.account_id', 'p.status_id')})`,
    [pollId],
  );
}
