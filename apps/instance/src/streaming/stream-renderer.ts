import { Inject, Injectable } from '@nestjs/common';
import { TOWNHALL_CONFIG, type TownhallConfig } from '@townhall/core';
import {
  type ActiveFilter,
  activeFilters,
  Conversations,
  findStatus,
  hydrate,
  matchFilters,
  notHiddenFrom,
  Notifications,
  type StatusPage,
  type StatusRecord,
  type ViewerFlags,
  visibleTo,
} from '@townhall/social';
import { TenantContext, type TenantAtHost, TenantTransactions } from '@townhall/tenancy';
import { conversationEntities, type MastodonConversation } from '../presenters/conversation.presenter';
import { type MastodonNotification, notificationEntities } from '../presenters/notification.presenter';

const FLAG_BY_KIND: (keyof ViewerFlags)[] = ['favourited', 'bookmarked', 'pinned', 'reblogged', 'muted'];

function noFlags(): ViewerFlags {
  return { favourited: false, reblogged: false, bookmarked: false, pinned: false, muted: false };
}

/** One status as each viewer may be shown it. */
export interface StatusForViewers {
  status: StatusRecord;
  /** The page to render for a viewer who may see the status; absent for one who may not. */
  pages: Map<string, StatusPage>;
  /**
   * Viewers who block or mute its author or someone it mentions, or block its author's domain without
   * following the author (public streams leave it out for them).
   */
  blockedOrMuted: Set<string>;
  /** Viewers' chosen languages, for those who chose some. */
  languages: Map<string, string[]>;
}

/**
 * Renders what streams carry for each viewer with the client API's own reads and presenters, in as few
 * queries as possible: a status for all of a process's viewers of it in one transaction (visibility,
 * blocks and mutes, the viewers' flags in one query each; filters from each connection's cache), so
 * a status reaching a thousand connections costs a handful of queries, not a thousand.
 */
@Injectable()
export class StreamRenderer {
  constructor(
    private readonly transactions: TenantTransactions,
    private readonly notifications: Notifications,
    private readonly conversations: Conversations,
    @Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig,
  ) {}

  /** The viewer's filters that have not expired, as status reads apply them. */
  filters(tenant: TenantAtHost, accountId: string): Promise<ActiveFilter[]> {
    return this.transactions.runIn(tenant.ref, (m) => activeFilters(m, accountId));
  }

  async ownsList(tenant: TenantAtHost, accountId: string, listId: string): Promise<boolean> {
    const rows = (await this.transactions.runIn(tenant.ref, (m) =>
      m.query(`SELECT 1 FROM lists WHERE id = $1 AND account_id = $2`, [listId, accountId]),
    )) as unknown[];
    return rows.length > 0;
  }

  async status(
    tenant: TenantAtHost,
    statusId: string,
    viewers: readonly string[],
    filtersOf: (viewer: string) => readonly ActiveFilter[],
    /** Viewers on public streams, whose blocks, mutes and languages are checked (Mastodon's needsFiltering). */
    filtering: readonly string[],
  ): Promise<StatusForViewers | null> {
    return this.transactions.runIn(tenant.ref, async (m) => {
      const status = await findStatus(m, statusId);
      if (!status || status.deletedAt) return null;
      const ids = status.reblogOfId ? [status.id, status.reblogOfId] : [status.id];
      const visible = (await m.query(
        `SELECT u.v::text AS viewer FROM unnest($2::bigint[]) AS u(v)
          WHERE (SELECT count(*) FROM statuses s WHERE s.id = ANY($1::bigint[]) AND ${visibleTo('u.v')})
                = cardinality($1::bigint[])`,
        [ids, viewers],
      )) as { viewer: string }[];
      const base = await hydrate(m, [status], null);
      const proper = status.reblogOfId ? base.reblogs.get(status.reblogOfId) : status;
      if (!proper) return null;
      const involved = [...new Set([status.accountId, proper.accountId, ...proper.mentions])];
      const seeing = visible.map((r) => r.viewer);
      // Public streams' checks, only for their viewers (home, list and direct streams were decided by
      // the fan-out). One connection: its queries run one after another.
      const filteringSet = new Set(filtering);
      const checked = seeing.filter((v) => filteringSet.has(v));
      const relations =
        checked.length === 0
          ? []
          : ((await m.query(
              `SELECT DISTINCT account_id::text FROM account_relations
                WHERE account_id = ANY($1::bigint[]) AND target_account_id = ANY($2::bigint[])
                  AND (kind = 2 OR (kind = 3 AND (expires_at IS NULL OR expires_at > now())))`,
              [checked, involved],
            )) as { account_id: string }[]);
      // Hidden by the viewer's choice as timelines hide it (mutes, domain blocks unless followed): the
      // status's author or, for a boost, the boosted status's.
      const hiding =
        checked.length === 0
          ? []
          : ((await m.query(
              `SELECT DISTINCT u.v::text AS viewer FROM unnest($2::bigint[]) AS u(v)
                 JOIN statuses s ON s.id = ANY($1::bigint[]) WHERE NOT ${notHiddenFrom('u.v')}`,
              [ids, checked],
            )) as { viewer: string }[]);
      const languageRows =
        checked.length === 0
          ? []
          : ((await m.query(
              `SELECT account_id::text, chosen_languages FROM users
                WHERE account_id = ANY($1::bigint[]) AND cardinality(chosen_languages) > 0`,
              [checked],
            )) as { account_id: string; chosen_languages: string[] }[]);
      // What the viewers did with the status (and the one it boosts): only the rows that exist, so a
      // new status costs one probe per index, not five per viewer.
      const reactions = (await m.query(
        `SELECT r.account_id::text AS viewer, r.status_id::text AS id, r.kind FROM status_reactions r
          WHERE r.kind IN (0, 1, 2) AND r.status_id = ANY($1::bigint[]) AND r.account_id = ANY($2::bigint[])
         UNION ALL
         SELECT b.account_id::text, b.reblog_of_id::text, 3 FROM statuses b
          WHERE b.reblog_of_id = ANY($1::bigint[]) AND b.account_id = ANY($2::bigint[]) AND b.deleted_at IS NULL
         UNION ALL
         SELECT c.account_id::text, s.id::text, 4 FROM statuses s
           JOIN conversation_mutes c ON c.conversation_id = s.conversation_id
          WHERE s.id = ANY($1::bigint[]) AND c.account_id = ANY($2::bigint[])`,
        [ids, seeing],
      )) as { viewer: string; id: string; kind: number }[];
      const flags = new Map<string, Map<string, ViewerFlags>>();
      for (const r of reactions) {
        const own = flags.get(r.viewer) ?? new Map(ids.map((id) => [id, noFlags()]));
        own.get(r.id)![FLAG_BY_KIND[r.kind]] = true;
        flags.set(r.viewer, own);
      }
      const none = new Map(ids.map((id) => [id, noFlags()]));
      const now = Date.now();
      const pages = new Map<string, StatusPage>();
      for (const viewer of seeing) {
        const live = filtersOf(viewer).filter(
          (f) => f.filter.expiresAt === null || f.filter.expiresAt.getTime() > now,
        );
        pages.set(viewer, {
          ...base,
          viewer,
          flags: flags.get(viewer) ?? none,
          filters: matchFilters(live, [status], base.reblogs, base.media),
        });
      }
      return {
        status,
        pages,
        blockedOrMuted: new Set([...relations.map((r) => r.account_id), ...hiding.map((r) => r.viewer)]),
        languages: new Map(languageRows.map((r) => [r.account_id, r.chosen_languages])),
      };
    });
  }

  /** A notification as its account's notification list shows it, or null when it shows nothing. */
  async notification(
    tenant: TenantAtHost,
    accountId: string,
    id: string,
  ): Promise<MastodonNotification | null> {
    const page = await TenantContext.run(tenant.ref, () => this.notifications.one(accountId, id)).catch(
      () => null,
    );
    if (!page) return null;
    return notificationEntities(page, this.config, tenant.primaryDomain, true)[0] ?? null;
  }

  /** A conversation as the viewer's conversation list shows it, or null. */
  async conversation(
    tenant: TenantAtHost,
    accountId: string,
    id: string,
  ): Promise<MastodonConversation | null> {
    const found = await TenantContext.run(tenant.ref, () => this.conversations.one(accountId, id));
    return conversationEntities(found, this.config, tenant.primaryDomain)[0] ?? null;
  }
}
