import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { preparedQuery } from '@townhall/persistence';
import { TenantTransactions } from '@townhall/tenancy';
import { type MediaRecord, mediaOfStatuses } from '../media/media-attachments';
import { type PollRecord, pollsOfStatuses } from '../polls/polls';
import { type AccountRecord, findAccounts } from '../accounts/account-records';
import {
  activeFilters,
  type FilterContext,
  type FilterResult,
  hidesIn,
  matchFilters,
} from '../filters/filter-matching';
import { StatusError } from './status-errors';
import {
  findVisibleStatuses,
  notHiddenFrom,
  pageBounds,
  type PageRequest,
  STATUS_COLUMNS,
  statusRecord,
  type StatusRecord,
  type StatusRow,
  visibleTo,
} from './status-records';

/** What the viewer did with a status, for the entity's `favourited`, `reblogged`, … */
export interface ViewerFlags {
  favourited: boolean;
  reblogged: boolean;
  bookmarked: boolean;
  pinned: boolean;
  muted: boolean;
}

/** One version of a status in its edit history. */
export interface StatusVersion {
  accountId: string;
  content: string;
  spoilerText: string;
  sensitive: boolean;
  createdAt: Date;
  media: MediaRecord[];
  /** The poll's options at this version, or null without a poll. */
  poll: { options: string[] } | null;
}

/** Statuses with everything their entities show: accounts, reblogged statuses, applications, flags. */
export interface StatusPage {
  /** Whom the page is for: the signed-in account, or null. */
  viewer: string | null;
  statuses: StatusRecord[];
  accounts: Map<string, AccountRecord>;
  /** The statuses the page's reblogs point to (already checked as visible). */
  reblogs: Map<string, StatusRecord>;
  applications: Map<string, { name: string; website: string | null }>;
  flags: Map<string, ViewerFlags> | null;
  /** Each status's media attachments, in its order. */
  media: Map<string, MediaRecord[]>;
  /** Each status's poll, with the viewer's votes. */
  polls: Map<string, PollRecord>;
  /** The viewer's filters each status matches (a reblog's stand for the status it reblogs too). */
  filters: Map<string, FilterResult[]>;
}

export interface AccountStatusesFilter {
  excludeReplies?: boolean;
  excludeReblogs?: boolean;
  onlyMedia?: boolean;
  pinned?: boolean;
  tagged?: string;
}

/**
 * Every read of statuses for the client API goes through here, and every one applies `visibleTo` in its
 * SQL: single statuses, timelines and account statuses cannot disagree about what a viewer may see.
 * `viewer` is the signed-in account's id, or null.
 */
@Injectable()
export class StatusQueries {
  constructor(private readonly transactions: TenantTransactions) {}

  async one(id: string, viewer: string | null): Promise<StatusPage> {
    if (!/^\d{1,19}$/.test(id)) throw new StatusError('not_found', 'Record not found');
    return this.transactions.run(async (m) => {
      const statuses = await findVisibleStatuses(m, [id], viewer);
      if (statuses.length === 0) throw new StatusError('not_found', 'Record not found');
      return hydrate(m, statuses, viewer);
    });
  }

  /**
   * The versions of a status the viewer may see, oldest first (Mastodon's StatusEdit list): the recorded
   * edits, or only the status as it is when it was never edited. Each version's attachments carry the
   * descriptions they had then.
   */
  history(id: string, viewer: string | null): Promise<{ page: StatusPage; versions: StatusVersion[] }> {
    return this.transactions.run(async (m) => {
      const [status] = /^\d{1,19}$/.test(id) ? await findVisibleStatuses(m, [id], viewer) : [];
      if (!status) throw new StatusError('not_found', 'Record not found');
      const page = await hydrate(m, [status], viewer);
      const rows = (await m.query(
        `SELECT account_id::text, content, spoiler_text, sensitive, media, poll, created_at
           FROM status_edits WHERE status_id = $1 ORDER BY id`,
        [id],
      )) as {
        account_id: string;
        content: string;
        spoiler_text: string;
        sensitive: boolean;
        media: { id: string; description: string | null }[];
        poll: { options: string[] } | null;
        created_at: Date;
      }[];
      const media = await mediaOfStatuses(m, [
        { id: status.id, mediaIds: [...new Set(rows.flatMap((r) => r.media.map((a) => a.id)))] },
      ]);
      const byId = new Map((media.get(status.id) ?? []).map((a) => [a.id, a]));
      const versions: StatusVersion[] =
        rows.length > 0
          ? rows.map((r) => ({
              accountId: r.account_id,
              content: r.content,
              spoilerText: r.spoiler_text,
              sensitive: r.sensitive,
              createdAt: r.created_at,
              media: r.media
                .map((a) => byId.get(a.id) && { ...byId.get(a.id)!, description: a.description })
                .filter((a): a is MediaRecord => a !== undefined),
              poll: r.poll,
            }))
          : [
              {
                accountId: status.accountId,
                content: status.content,
                spoilerText: status.spoilerText,
                sensitive: status.sensitive,
                createdAt: status.editedAt ?? status.createdAt,
                media: page.media.get(status.id) ?? [],
                poll: page.polls.has(status.id) ? { options: page.polls.get(status.id)!.options } : null,
              },
            ];
      return { page, versions };
    });
  }

  /** The statuses an account favourited (0) or bookmarked (1). */
  reacted(
    kind: 0 | 1,
    accountId: string,
    page: PageRequest,
  ): Promise<{ page: StatusPage; cursorIds: string[] }> {
    return this.transactions.run((m) => reactedStatuses(m, kind, accountId, page));
  }

  /** What a deleted status's entity shows (its own account; it is no longer visible to anyone). */
  own(status: StatusRecord, viewer: string): Promise<StatusPage> {
    return this.transactions.run((m) => hydrate(m, [status], viewer));
  }

  /** The viewer's home feed: what fan-out put there, without muted or blocked accounts. */
  home(viewer: string, page: PageRequest): Promise<StatusPage> {
    return this.transactions.run(async (m) => {
      const bounds = pageBounds('f.status_id', page, 3);
      const rows = await preparedQuery<StatusRow>(
        m,
        `SELECT ${STATUS_COLUMNS} FROM home_feed f JOIN statuses s ON s.id = f.status_id
          WHERE f.account_id = $1 AND ${bounds.where} AND ${visibleTo('$1::bigint')}
            AND ${notHiddenFrom('$1::bigint')}
            -- Members of the viewer's exclusive lists are read there, not in home.
            AND NOT EXISTS (SELECT 1 FROM lists xl JOIN list_accounts xa ON xa.list_id = xl.id
                             WHERE xl.account_id = $1 AND xl.exclusive AND xa.account_id = s.account_id)
          ORDER BY ${bounds.order} LIMIT $2`,
        [viewer, page.limit, ...bounds.params],
      );
      return hydrate(m, newestFirst(rows), viewer);
    });
  }

  /**
   * A list's timeline (Mastodon's list feed), read from the members' statuses: their posts and boosts
   * the viewer may see, but no direct messages; replies to others as the list's replies policy says —
   * `list`: to members and the viewer, `followed`: to accounts the viewer follows and the viewer,
   * `none`: never. 404 for a list that is not the viewer's.
   */
  list(viewer: string, listId: string, page: PageRequest): Promise<StatusPage> {
    if (!/^\d{1,19}$/.test(listId)) throw new StatusError('not_found', 'Record not found');
    return this.transactions.run(async (m) => {
      const [list] = (await m.query(`SELECT replies_policy FROM lists WHERE id = $1 AND account_id = $2`, [
        listId,
        viewer,
      ])) as { replies_policy: string }[];
      if (!list) throw new StatusError('not_found', 'Record not found');
      const bounds = pageBounds('s.id', page, 5);
      const rows = (await m.query(
        `SELECT ${STATUS_COLUMNS} FROM statuses s
           JOIN list_accounts la ON la.list_id = $3 AND la.account_id = s.account_id
          WHERE ${bounds.where} AND s.visibility < 3 AND ${visibleTo('$1::bigint')}
            AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id IN (s.account_id, $1)
                 OR ($4 = 'list' AND EXISTS (SELECT 1 FROM list_accounts lr
                       WHERE lr.list_id = $3 AND lr.account_id = s.in_reply_to_account_id))
                 OR ($4 = 'followed' AND EXISTS (SELECT 1 FROM account_relations lf
                       WHERE lf.kind = 0 AND lf.account_id = $1 AND lf.target_account_id = s.in_reply_to_account_id)))
            AND ${notHiddenFrom('$1::bigint')}
          ORDER BY ${bounds.order} LIMIT $2`,
        [viewer, page.limit, listId, list.replies_policy, ...bounds.params],
      )) as StatusRow[];
      return hydrate(m, newestFirst(rows), viewer);
    });
  }

  /** The public timeline (Mastodon's PublicFeed): public statuses, no replies to others, no reblogs. */
  public(
    viewer: string | null,
    page: PageRequest,
    scope: { local: boolean; remote: boolean },
  ): Promise<StatusPage> {
    return this.transactions.run(async (m) => {
      const bounds = pageBounds('s.id', page, 5);
      const rows = (await m.query(
        `SELECT ${STATUS_COLUMNS} FROM statuses s
          WHERE s.visibility = 0 AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
            AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id)
            AND (NOT $3::boolean OR s.local) AND (NOT $4::boolean OR NOT s.local)
            AND ${bounds.where} AND ${visibleTo('$1::bigint')}
            AND ${notHiddenFrom('$1::bigint')}
            AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = s.account_id AND a.suspended_at IS NULL)
          ORDER BY ${bounds.order} LIMIT $2`,
        [viewer, page.limit, scope.local, scope.remote, ...bounds.params],
      )) as StatusRow[];
      return hydrate(m, newestFirst(rows), viewer);
    });
  }

  /** An account's statuses as the viewer may see them. */
  ofAccount(
    accountId: string,
    viewer: string | null,
    page: PageRequest,
    filter: AccountStatusesFilter,
  ): Promise<StatusPage> {
    return this.transactions.run(async (m) => {
      const bounds = pageBounds('s.id', page, 8);
      const rows = (await m.query(
        `SELECT ${STATUS_COLUMNS} FROM statuses s
          WHERE s.account_id = $1 AND ${bounds.where} AND ${visibleTo('$2::bigint')}
            AND (NOT $4::boolean OR (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id))
            AND (NOT $5::boolean OR s.reblog_of_id IS NULL)
            AND (NOT $6::boolean OR cardinality(s.media_attachment_ids) > 0)
            AND (NOT $7::boolean OR EXISTS (SELECT 1 FROM status_reactions p
                  WHERE p.kind = 2 AND p.account_id = s.account_id AND p.status_id = s.id))
            AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id
                  WHERE st.status_id = s.id AND lower(t.name) = lower($8)))
          ORDER BY ${bounds.order} LIMIT $3`,
        [
          accountId,
          viewer,
          page.limit,
          filter.excludeReplies === true,
          filter.excludeReblogs === true,
          filter.onlyMedia === true,
          filter.pinned === true,
          filter.tagged ?? null,
          ...bounds.params,
        ],
      )) as StatusRow[];
      return hydrate(m, newestFirst(rows), viewer);
    });
  }
}

/** Rows of a `min_id` page come oldest first; every page is shown newest first. */
export function newestFirst(rows: StatusRow[]): StatusRecord[] {
  return rows.map(statusRecord).sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
}

export async function hydrate(
  m: EntityManager,
  statuses: StatusRecord[],
  viewer: string | null,
): Promise<StatusPage> {
  const reblogIds = statuses.map((s) => s.reblogOfId).filter((id): id is string => id !== null);
  const reblogList = await findVisibleStatuses(m, reblogIds, viewer);
  const reblogs = new Map(reblogList.map((s) => [s.id, s]));
  const all = [...statuses, ...reblogList];
  const accountIds = new Set<string>();
  for (const s of all) {
    accountIds.add(s.accountId);
    for (const id of s.mentions) accountIds.add(id);
  }
  const accounts = new Map((await findAccounts(m, [...accountIds])).map((a) => [a.id, a]));
  const appIds = [...new Set(all.map((s) => s.applicationId).filter((id): id is string => id !== null))];
  const applications = new Map<string, { name: string; website: string | null }>();
  if (appIds.length > 0) {
    const rows = (await m.query(
      `SELECT id::text, name, website FROM oauth_applications WHERE id = ANY($1::bigint[])`,
      [appIds],
    )) as { id: string; name: string; website: string | null }[];
    for (const r of rows) applications.set(r.id, { name: r.name, website: r.website });
  }
  let flags: Map<string, ViewerFlags> | null = null;
  if (viewer !== null && all.length > 0) {
    const ids = all.map((s) => s.id);
    const rows = await preparedQuery<{ id: string } & ViewerFlags>(
      m,
      `SELECT s.id::text,
              EXISTS (SELECT 1 FROM status_reactions r WHERE r.kind = 0 AND r.account_id = $2 AND r.status_id = s.id) AS favourited,
              EXISTS (SELECT 1 FROM statuses b WHERE b.reblog_of_id = s.id AND b.account_id = $2 AND b.deleted_at IS NULL) AS reblogged,
              EXISTS (SELECT 1 FROM status_reactions r WHERE r.kind = 1 AND r.account_id = $2 AND r.status_id = s.id) AS bookmarked,
              EXISTS (SELECT 1 FROM status_reactions r WHERE r.kind = 2 AND r.account_id = $2 AND r.status_id = s.id) AS pinned,
              EXISTS (SELECT 1 FROM conversation_mutes c WHERE c.account_id = $2 AND c.conversation_id = s.conversation_id) AS muted
         FROM statuses s WHERE s.id = ANY($1::bigint[])`,
      [ids, viewer],
    );
    flags = new Map(rows.map((r) => [r.id, r]));
  }
  const media = await mediaOfStatuses(m, all);
  const polls = await pollsOfStatuses(
    m,
    all.filter((s) => s.pollId !== null).map((s) => s.id),
    viewer,
  );
  const filters =
    viewer !== null && all.length > 0
      ? matchFilters(await activeFilters(m, viewer), statuses, reblogs, media)
      : new Map<string, FilterResult[]>();
  return { viewer, statuses, accounts, reblogs, applications, flags, media, polls, filters };
}

/**
 * Whether a status is left out where it is shown (`context`: a timeline, a thread, a profile,
 * notifications) because one of the viewer's `hide` filters of that context matches it. The viewer's own
 * statuses are never left out, as Mastodon's apps show them whatever the filters say. The one place
 * every timeline decides this, so the page's paging (its Link header) still counts what was left out.
 */
export function filteredOut(page: StatusPage, status: StatusRecord, context: FilterContext): boolean {
  const proper = status.reblogOfId ? page.reblogs.get(status.reblogOfId) : status;
  if (proper && proper.accountId === page.viewer) return false;
  return hidesIn(page.filters.get(status.id), context);
}

/** Statuses an account reacted to (favourites, bookmarks), newest reaction first, paged by reaction id. */
export async function reactedStatuses(
  m: EntityManager,
  kind: 0 | 1,
  accountId: string,
  page: PageRequest,
): Promise<{ page: StatusPage; cursorIds: string[] }> {
  const bounds = pageBounds('r.id', page, 4);
  const rows = (await m.query(
    `SELECT r.id::text AS reaction_id, ${STATUS_COLUMNS} FROM status_reactions r JOIN statuses s ON s.id = r.status_id
      WHERE r.kind = $1 AND r.account_id = $2 AND ${bounds.where} AND ${visibleTo('$2::bigint')}
      ORDER BY ${bounds.order} LIMIT $3`,
    [kind, accountId, page.limit, ...bounds.params],
  )) as (StatusRow & { reaction_id: string })[];
  rows.sort((a, b) => (BigInt(b.reaction_id) > BigInt(a.reaction_id) ? 1 : -1));
  return {
    page: await hydrate(m, rows.map(statusRecord), accountId),
    cursorIds: rows.map((r) => r.reaction_id),
  };
}
