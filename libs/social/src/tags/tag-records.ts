import type { EntityManager } from 'typeorm';

/** Kinds of `tag_relations` rows. */
export const TAG_RELATION = { followed: 0, featured: 1 } as const;

/** A hashtag as the client API presents it (Mastodon's Tag entity, in our words). */
export interface TagView {
  /** Null for a tag no status and no account has used yet (Mastodon answers those too). */
  id: string | null;
  name: string;
  /** Uses per day, the newest day first: the last seven days. */
  history: TagDay[];
  /** Whether the viewer follows it; null when nobody is signed in. */
  following: boolean | null;
}

export interface TagDay {
  /** Midnight (UTC) starting the day. */
  day: Date;
  uses: number;
  accounts: number;
}

export interface TagRow {
  id: string;
  name: string;
  display_name: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const HISTORY_DAYS = 7;

/** A tag by name (NFKC, any case), or null. */
export async function findTag(m: EntityManager, name: string): Promise<TagRow | null> {
  const rows = (await m.query(`SELECT id::text, name, display_name FROM tags WHERE lower(name) = lower($1)`, [
    name,
  ])) as TagRow[];
  return rows[0] ?? null;
}

/** Tags by name; names no status has used are left out. */
export async function findTags(m: EntityManager, names: readonly string[]): Promise<TagRow[]> {
  if (names.length === 0) return [];
  return (await m.query(
    `SELECT id::text, name, display_name FROM tags WHERE lower(name) = ANY(SELECT lower(n) FROM unnest($1::text[]) n)`,
    [names],
  )) as TagRow[];
}

/** The tag with this name, made if no status has used it yet (following or featuring it makes it). */
export async function findOrCreateTag(m: EntityManager, name: string): Promise<TagRow> {
  await m.query(
    `INSERT INTO tags (name, display_name) VALUES ($1, $1) ON CONFLICT (lower(name)) DO NOTHING`,
    [name],
  );
  return (await findTag(m, name))!;
}

/**
 * Tags as the viewer sees them: their usage over the last seven days and whether the viewer follows
 * them. Usage counts as Mastodon's tag history does: public statuses (not reblogs) of discoverable
 * accounts that are neither silenced nor suspended, and the distinct accounts that posted them, per day
 * in UTC. The seven days are found by id range, since status ids begin with their creation time.
 */
export async function tagViews(
  m: EntityManager,
  tags: readonly { id: string | null; name: string }[],
  viewer: string | null,
  now = new Date(),
): Promise<TagView[]> {
  const ids = tags.map((t) => t.id).filter((id): id is string => id !== null);
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const first = today - (HISTORY_DAYS - 1) * DAY_MS;
  const usage = new Map<string, { uses: number; accounts: number }>();
  const followed = new Set<string>();
  if (ids.length > 0) {
    const rows = (await m.query(
      `SELECT st.tag_id::text, floor(extract(epoch FROM s.created_at) / 86400)::bigint * 86400000 AS day,
              count(*)::int AS uses, count(DISTINCT s.account_id)::int AS accounts
         FROM status_tags st
         JOIN statuses s ON s.id = st.status_id
         JOIN accounts a ON a.id = s.account_id
        WHERE st.tag_id = ANY($1::bigint[]) AND st.status_id >= $2::bigint AND s.id >= $2::bigint
          AND s.visibility = 0 AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
          AND a.discoverable AND a.silenced_at IS NULL AND a.suspended_at IS NULL
        GROUP BY 1, 2`,
      [ids, (BigInt(first) << 16n).toString()],
    )) as { tag_id: string; day: string; uses: number; accounts: number }[];
    for (const r of rows) usage.set(`${r.tag_id}/${Number(r.day)}`, { uses: r.uses, accounts: r.accounts });
    if (viewer !== null) {
      const follows = (await m.query(
        `SELECT tag_id::text FROM tag_relations WHERE kind = $1 AND account_id = $2 AND tag_id = ANY($3::bigint[])`,
        [TAG_RELATION.followed, viewer, ids],
      )) as { tag_id: string }[];
      for (const f of follows) followed.add(f.tag_id);
    }
  }
  return tags.map((t) => ({
    id: t.id,
    name: t.name,
    history: Array.from({ length: HISTORY_DAYS }, (_, i) => {
      const day = today - i * DAY_MS;
      const used = t.id === null ? undefined : usage.get(`${t.id}/${day}`);
      return { day: new Date(day), uses: used?.uses ?? 0, accounts: used?.accounts ?? 0 };
    }),
    following: viewer === null ? null : t.id !== null && followed.has(t.id),
  }));
}
