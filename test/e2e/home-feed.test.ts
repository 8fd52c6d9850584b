import { HOME_FEED_LENGTH, TRIM_EVERY } from '@townhall/social';
import { alphaTestbedForBlock } from './client-support';

/**
 * The home feed's length: what fan-out and follows write is trimmed to HOME_FEED_LENGTH statuses, the
 * newest kept (real HTTP, PostgreSQL and Redis).
 */
describe('Home feed length (real HTTP, PostgreSQL and Redis)', () => {
  const alpha = alphaTestbedForBlock();
  const call = <T = unknown>(method: string, path: string, token: string, body?: Record<string, unknown>) =>
    alpha.call<T>(method, path, token, body);

  async function feed(accountId: string): Promise<{ n: number; oldest: string; newest: string }> {
    const [row] = (await alpha.ds.query(
      `SELECT count(*)::int AS n, min(status_id)::text AS oldest, max(status_id)::text AS newest
         FROM "${alpha.schema}".home_feed WHERE account_id = $1`,
      [accountId],
    )) as { n: number; oldest: string; newest: string }[];
    return row;
  }

  /** `count` more public statuses of `authorId`, older than anything posted later, in `readerId`'s feed. */
  async function backfill(authorId: string, readerId: string, count: number): Promise<void> {
    await alpha.ds.query(
      `WITH made AS (
         INSERT INTO "${alpha.schema}".statuses (account_id, text, content)
         SELECT $1, 'Backfilled ' || i, '<p>Backfilled ' || i || '</p>' FROM generate_series(1, $3) AS i
         RETURNING id)
       INSERT INTO "${alpha.schema}".home_feed (account_id, status_id) SELECT $2, id FROM made`,
      [authorId, readerId, count],
    );
  }

  it('trims a feed that fan-out writes to, one write in TRIM_EVERY, keeping the newest', async () => {
    const author = await alpha.bed.account('alpha', 'press_office');
    const reader = await alpha.bed.account('alpha', 'subscriber');
    const [authorToken, readerToken] = await Promise.all([
      alpha.bed.token('alpha', 'press_office'),
      alpha.bed.token('alpha', 'subscriber'),
    ]);
    expect((await call('POST', `/api/v1/accounts/${author.id}/follow`, readerToken)).status).toBe(200);
    await backfill(author.id, reader.id, HOME_FEED_LENGTH + 40);
    const start = await feed(reader.id);
    expect(start.n).toBe(HOME_FEED_LENGTH + 40);

    // Posts whose ids do not pick the reader's feed for trimming only add to it; the first that does trims it.
    const due = (statusId: string) => (BigInt(reader.id) ^ BigInt(statusId)) % BigInt(TRIM_EVERY) === 0n;
    let grown = 0;
    for (let attempt = 0; ; attempt++) {
      if (attempt === 20 * TRIM_EVERY) throw new Error('no post was due to trim the feed');
      const posted = await call<{ id: string }>('POST', '/api/v1/statuses', authorToken, {
        status: `Notice ${attempt}`,
      });
      expect(posted.status).toBe(200);
      const now = await feed(reader.id);
      expect(now.newest).toBe(posted.body.id);
      if (!due(posted.body.id)) {
        grown += 1;
        expect(now.n).toBe(start.n + grown);
        continue;
      }
      expect(now.n).toBe(HOME_FEED_LENGTH);
      break;
    }
    // The home timeline reads what is left: its oldest page ends where the feed was cut.
    const kept = await feed(reader.id);
    expect(BigInt(kept.oldest)).toBeGreaterThan(BigInt(start.oldest));
    const beyond = await call<unknown[]>('GET', `/api/v1/timelines/home?max_id=${kept.oldest}`, readerToken);
    expect(beyond.body).toEqual([]);
  });

  it('trims the follower’s feed when a follow merges the account’s recent statuses into it', async () => {
    const reader = await alpha.bed.account('alpha', 'newcomer');
    const busy = await alpha.bed.account('alpha', 'busy_author');
    const other = await alpha.bed.account('alpha', 'other_author');
    await backfill(busy.id, reader.id, HOME_FEED_LENGTH + 5);
    const token = await alpha.bed.token('alpha', 'newcomer');
    const otherToken = await alpha.bed.token('alpha', 'other_author');
    const recent = await call<{ id: string }>('POST', '/api/v1/statuses', otherToken, {
      status: 'Recent news',
    });
    expect((await call('POST', `/api/v1/accounts/${other.id}/follow`, token)).status).toBe(200);
    const after = await feed(reader.id);
    expect(after).toMatchObject({ n: HOME_FEED_LENGTH, newest: recent.body.id });
  });
});
