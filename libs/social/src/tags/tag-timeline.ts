import { Injectable } from '@nestjs/common';
import { TenantTransactions } from '@townhall/tenancy';
import { hydrate, type StatusPage } from '../statuses/status-queries';
import {
  pageBounds,
  type PageRequest,
  STATUS_COLUMNS,
  statusRecord,
  type StatusRow,
  notHiddenFrom,
  visibleTo,
} from '../statuses/status-records';
import { isTagName, tagNameFrom } from './tag-names';
import { findTag, findTags } from './tag-records';

export interface TagTimelineFilter {
  /** Statuses with any of these tags as well (besides the timeline's own). */
  any?: string[];
  /** Statuses that also have all of these. */
  all?: string[];
  /** Statuses with none of these. */
  none?: string[];
  local?: boolean;
  remote?: boolean;
  onlyMedia?: boolean;
}

/** Mastodon's TagFeed::LIMIT_PER_MODE: at most this many names count in each of any, all and none. */
const NAMES_PER_MODE = 4;

/**
 * The hashtag timeline (Mastodon's TagFeed): public statuses with the tag — or any of `any` — and all of
 * `all` and none of `none`, of accounts neither suspended nor silenced; local or remote only, or only
 * those with media, on request; for a signed-in viewer, without the accounts they block, mute or are
 * blocked by. Names no status has used are left out of each list, as Mastodon does, and an unused or
 * invalid timeline tag is an empty timeline. Paged by status id like every timeline.
 */
@Injectable()
export class TagTimeline {
  constructor(private readonly transactions: TenantTransactions) {}

  statuses(
    name: string,
    viewer: string | null,
    page: PageRequest,
    filter: TagTimelineFilter,
  ): Promise<StatusPage> {
    return this.transactions.run(async (m) => {
      const own = tagNameFrom(name);
      if (!isTagName(own) || !(await findTag(m, own))) return hydrate(m, [], viewer);
      const names = (list: string[] | undefined) =>
        [...new Set((list ?? []).map((n) => tagNameFrom(n).toLowerCase()).filter(isTagName))].slice(
          0,
          NAMES_PER_MODE,
        );
      const ids = async (list: string[]) => (await findTags(m, list)).map((t) => t.id);
      const anyIds = await ids(
        [...new Set([own.toLowerCase(), ...names(filter.any)])].slice(0, NAMES_PER_MODE),
      );
      const allIds = await ids(names(filter.all));
      const noneIds = await ids(names(filter.none));

      const bounds = pageBounds('st.status_id', page, 9);
      // One tag (the usual case) scans its index range in id order; several need DISTINCT.
      const tagged = anyIds.length === 1 ? `st.tag_id = ($1::bigint[])[1]` : `st.tag_id = ANY($1::bigint[])`;
      const rows = (await m.query(
        `SELECT DISTINCT ON (st.status_id) ${STATUS_COLUMNS}
           FROM status_tags st JOIN statuses s ON s.id = st.status_id
          WHERE ${tagged} AND ${bounds.where}
            AND s.visibility = 0 AND s.reblog_of_id IS NULL AND ${visibleTo('$2::bigint')}
            AND EXISTS (SELECT 1 FROM accounts a
                         WHERE a.id = s.account_id AND a.suspended_at IS NULL AND a.silenced_at IS NULL)
            AND (cardinality($3::bigint[]) = 0
                 OR (SELECT count(DISTINCT x.tag_id) FROM status_tags x
                      WHERE x.status_id = s.id AND x.tag_id = ANY($3::bigint[])) = cardinality($3::bigint[]))
            AND NOT EXISTS (SELECT 1 FROM status_tags x WHERE x.status_id = s.id AND x.tag_id = ANY($4::bigint[]))
            AND (NOT $5::boolean OR s.local) AND (NOT $6::boolean OR NOT s.local)
            AND (NOT $7::boolean OR cardinality(s.media_attachment_ids) > 0)
            AND ${notHiddenFrom('$2::bigint')}
          ORDER BY ${bounds.order}
          LIMIT $8`,
        [
          anyIds,
          viewer,
          allIds,
          noneIds,
          filter.local === true,
          filter.remote === true,
          filter.onlyMedia === true,
          page.limit,
          ...bounds.params,
        ],
      )) as StatusRow[];
      const statuses = rows.map(statusRecord).sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
      return hydrate(m, statuses, viewer);
    });
  }
}
