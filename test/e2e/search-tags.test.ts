import { createRestAPIClient } from 'masto';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type Account = { id: string; username: string; acct: string };
type Status = { id: string; content: string; visibility: string; account: { username: string } };
type Tag = {
  id?: string;
  name: string;
  url: string;
  history: { day: string; uses: string; accounts: string }[];
  following?: boolean;
};
type Results = { accounts: Account[]; statuses: Status[]; hashtags: Tag[] };
type FeaturedTag = {
  id: string;
  name: string;
  url: string;
  statuses_count: string;
  last_status_at: string | null;
};

/**
 * Search, hashtags, followed and featured tags and the tag timeline as Mastodon 4.3 answers them, over
 * real HTTP against two tenants (their data never meet), with masto.js where an app would use it.
 */
describe('Search and hashtags (real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;
  let base: string;

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
      { slug: 'beta', domain: 'social.beta.test', displayName: 'Beta', adminEmail: 'press@beta.example' },
    ]);
    base = bed.base.alpha;
  });

  afterAll(async () => {
    await bed?.close();
  });

  async function person(username: string, slug = 'alpha'): Promise<{ id: string; token: string }> {
    const { id } = await bed.account(slug, username);
    return { id, token: await bed.token(slug, username) };
  }

  const call = <T = unknown>(
    method: string,
    path: string,
    token: string | null,
    body?: Record<string, unknown> | URLSearchParams,
  ) => callApi<T>(base, method, path, token, body);

  /** A GET with its `Link` header. */
  async function get<T>(
    url: string,
    token: string | null,
  ): Promise<{ status: number; body: T; link: string }> {
    const res = await fetch(url.startsWith('http') ? url : `${base}${url}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: (await res.json()) as T, link: res.headers.get('link') ?? '' };
  }

  const search = (query: Record<string, string>, token: string | null, at = base) =>
    get<Results>(`${at}/api/v2/search?${new URLSearchParams(query)}`, token);

  async function post(token: string, body: Record<string, unknown>, at = base): Promise<Status> {
    const res = await callApi<Status>(at, 'POST', '/api/v1/statuses', token, body);
    expect(res.status).toBe(200);
    return res.body;
  }

  function linkTo(link: string, rel: 'next' | 'prev'): string | undefined {
    return new RegExp(`<([^>]+)>; rel="${rel}"`).exec(link)?.[1];
  }

  describe('accounts', () => {
    it('finds local accounts by username and display name; the exact user@domain first; three characters when not signed in', async () => {
      const office = await person('roadworks');
      const reader = await person('reader');
      const neighbour = await person('neighbour');
      expect(
        (
          await call('PATCH', '/api/v1/accounts/update_credentials', office.token, {
            display_name: 'Highway Maintenance Office',
          })
        ).status,
      ).toBe(200);
      await person('roadworks', 'beta');

      const byName = await search({ q: 'highway', type: 'accounts' }, reader.token);
      expect(byName.status).toBe(200);
      expect(byName.body.accounts.map((a) => a.id)).toEqual([office.id]);
      expect(byName.body).toMatchObject({ statuses: [], hashtags: [] });
      expect(
        (await search({ q: 'Maint', type: 'accounts' }, reader.token)).body.accounts.map((a) => a.id),
      ).toEqual([office.id]);
      expect((await search({ q: 'roadw' }, reader.token)).body.accounts.map((a) => a.acct)).toEqual([
        'roadworks',
      ]);

      // Not signed in: two characters find nothing, three do; a complete address finds its account.
      expect((await search({ q: 'ro' }, null)).body.accounts).toEqual([]);
      expect((await search({ q: 'roa' }, null)).body.accounts.map((a) => a.id)).toEqual([office.id]);
      expect((await search({ q: '@roadworks@social.alpha.test' }, null)).body.accounts[0].id).toBe(office.id);

      // Only followed accounts with `following`.
      expect((await call('POST', `/api/v1/accounts/${neighbour.id}/follow`, reader.token)).status).toBe(200);
      expect(
        (await search({ q: 'neighbour', following: 'true' }, reader.token)).body.accounts.map((a) => a.id),
      ).toEqual([neighbour.id]);
      expect((await search({ q: 'highway', following: 'true' }, reader.token)).body.accounts).toEqual([]);

      // The accounts search of v1, with masto.js, and only this tenant's accounts on each domain.
      const client = createRestAPIClient({ url: base, accessToken: reader.token });
      expect((await client.v1.accounts.search.list({ q: 'road' })).map((a) => a.id)).toEqual([office.id]);
      const beta = await search({ q: 'roadworks', type: 'accounts' }, null, bed.base.beta);
      expect(beta.body.accounts).toHaveLength(1);
      expect(beta.body.accounts[0].id).not.toBe(office.id);
      expect((await get('/api/v1/accounts/search?q=road', null)).status).toBe(401);
    });
  });

  describe('statuses', () => {
    it('finds statuses by their words, stemmed in their language, and only those the viewer may see', async () => {
      const author = await person('bridges');
      const follower = await person('bridgefan');
      const stranger = await person('bridgestranger');
      await call('POST', `/api/v1/accounts/${author.id}/follow`, follower.token);

      const open = await post(author.token, { status: 'The viaduct repairs were finished', language: 'en' });
      const german = await post(author.token, {
        status: 'Die Viaduktbrücken werden repariert',
        language: 'de',
      });
      const internal = await post(author.token, {
        status: 'Viaduct overrun, internal',
        visibility: 'private',
      });
      const direct = await post(author.token, {
        status: '@bridgefan your viaduct complaint is noted',
        visibility: 'direct',
      });
      const quiet = await post(author.token, {
        status: 'Viaduct lane closures tonight',
        visibility: 'unlisted',
      });
      const elsewhere = await post(
        (await person('bridges', 'beta')).token,
        { status: 'Viaduct news' },
        bed.base.beta,
      );

      const ids = async (q: string, token: string | null, extra: Record<string, string> = {}) =>
        (await search({ q, type: 'statuses', ...extra }, token)).body.statuses.map((s) => s.id);

      // Public statuses of indexable accounts: found by anyone signed in, stemmed in the status's language.
      expect(await ids('viaduct', stranger.token)).toEqual([open.id]);
      expect(await ids('repair language:en', stranger.token)).toEqual([open.id]);
      expect(await ids('Viaduktbrücke language:de', stranger.token)).toEqual([german.id]);
      expect(await ids('"viaduct repairs"', stranger.token)).toEqual([open.id]);
      expect(await ids('viaduct -finished', stranger.token)).toEqual([]);
      expect(await ids('viaduct', null)).toEqual([]);

      // Private, direct and unlisted ones only for those who have to do with them, and may see them.
      expect(await ids('overrun', follower.token)).toEqual([]);
      expect((await call('POST', `/api/v1/statuses/${internal.id}/favourite`, follower.token)).status).toBe(
        200,
      );
      expect(await ids('overrun', follower.token)).toEqual([internal.id]);
      expect(await ids('overrun', stranger.token)).toEqual([]);
      expect(await ids('complaint', follower.token)).toEqual([direct.id]);
      expect(await ids('complaint', stranger.token)).toEqual([]);
      expect(await ids('closures', stranger.token)).toEqual([]);
      expect((await call('POST', `/api/v1/statuses/${quiet.id}/bookmark`, stranger.token)).status).toBe(200);
      expect(await ids('closures', stranger.token)).toEqual([quiet.id]);
      expect(await ids('viaduct', author.token)).toEqual([quiet.id, direct.id, internal.id, open.id]);

      // Once the follower stops following, the private status they favourited is no longer theirs to see.
      await call('POST', `/api/v1/accounts/${author.id}/unfollow`, follower.token);
      expect(await ids('overrun', follower.token)).toEqual([]);

      // Filters, paging by offset and id, and only this tenant's statuses.
      expect(await ids('viaduct', author.token, { account_id: stranger.id })).toEqual([]);
      expect(await ids('viaduct from:me', author.token)).toHaveLength(4);
      expect(await ids('viaduct', author.token, { limit: '1', offset: '1' })).toEqual([direct.id]);
      expect(await ids('viaduct', author.token, { max_id: direct.id })).toEqual([internal.id, open.id]);
      expect(await ids('viaduct', author.token, { min_id: direct.id })).toEqual([quiet.id]);
      expect((await ids('viaduct', author.token)).includes(elsewhere.id)).toBe(false);

      // An account that opts out of indexing is no longer found by strangers; its author still finds it.
      await call('PATCH', '/api/v1/accounts/update_credentials', author.token, { indexable: false });
      expect(await ids('repairs', stranger.token)).toEqual([]);
      expect(await ids('repairs', author.token)).toEqual([open.id]);

      // Blocking hides an account's statuses from search.
      await call('PATCH', '/api/v1/accounts/update_credentials', author.token, { indexable: true });
      expect(await ids('repairs', stranger.token)).toEqual([open.id]);
      await call('POST', `/api/v1/accounts/${author.id}/block`, stranger.token);
      expect(await ids('repairs', stranger.token)).toEqual([]);
    });

    it('searches a status by its words as they are after an edit, with masto.js', async () => {
      const author = await person('tunnels');
      const status = await post(author.token, { status: 'Ferry timetable for the summer', language: 'en' });
      expect(
        (
          await call('PUT', `/api/v1/statuses/${status.id}`, author.token, {
            status: 'Tunnel timetable for winter',
          })
        ).status,
      ).toBe(200);
      const client = createRestAPIClient({ url: base, accessToken: author.token });
      const found = await client.v2.search.list({ q: 'tunnel', type: 'statuses' });
      expect(found.statuses.map((s) => s.id)).toEqual([status.id]);
      expect((await client.v2.search.list({ q: 'ferry', type: 'statuses' })).statuses).toEqual([]);
    });

    it('resolves this tenant’s own addresses of accounts and statuses, when the viewer may see them', async () => {
      const author = await person('resolver');
      const reader = await person('resolvereader');
      const open = await post(author.token, { status: 'Resolvable' });
      const hidden = await post(author.token, { status: 'Not for you', visibility: 'private' });
      const resolve = (q: string) => search({ q, resolve: 'true' }, reader.token);

      expect((await resolve(`${base}/@resolver`)).body.accounts.map((a) => a.id)).toEqual([author.id]);
      expect((await resolve(`${base}/@resolver/${open.id}`)).body.statuses.map((s) => s.id)).toEqual([
        open.id,
      ]);
      expect((await resolve(`${base}/users/resolver/statuses/${open.id}`)).body.statuses).toHaveLength(1);
      expect((await resolve(`${base}/@resolver/${hidden.id}`)).body).toEqual({
        accounts: [],
        statuses: [],
        hashtags: [],
      });
      expect((await resolve(`https://elsewhere.example/@resolver`)).body.accounts).toEqual([]);
    });
  });

  describe('hashtags', () => {
    it('finds hashtags by the start of their name, shortest first, with their week of use', async () => {
      const author = await person('tagger');
      await post(author.token, { status: 'Plans #Parking #ParkingPermits #parkland' });
      const tags = await search({ q: '#park', type: 'hashtags' }, author.token);
      expect(tags.body.hashtags.map((t) => t.name)).toEqual(['Parking', 'parkland', 'ParkingPermits']);
      const [parking] = tags.body.hashtags;
      expect(parking).toMatchObject({
        url: `${base}/tags/parking`,
        following: false,
        id: expect.any(String),
      });
      expect(parking.history).toHaveLength(7);
      const midnight = Math.floor(Date.now() / 86_400_000) * 86_400;
      expect(parking.history[0]).toEqual({ day: String(midnight), uses: '1', accounts: '1' });
      expect(parking.history[6].day).toBe(String(midnight - 6 * 86_400));

      // Not signed in: no `following`; exclude_unreviewed keeps only the exact name; `@` searches no tags.
      expect((await search({ q: 'parking' }, null)).body.hashtags[0]).not.toHaveProperty('following');
      expect(
        (await search({ q: 'park', exclude_unreviewed: 'true' }, null)).body.hashtags.map((t) => t.name),
      ).toEqual([]);
      expect(
        (await search({ q: 'parkland', exclude_unreviewed: 'true' }, null)).body.hashtags.map((t) => t.name),
      ).toEqual(['parkland']);
      expect((await search({ q: 'park@x' }, null)).body.hashtags).toEqual([]);
      expect((await search({ q: 'parking' }, null, bed.base.beta)).body.hashtags).toEqual([]);
    });
  });

  describe('bad requests', () => {
    it('answers missing and malformed parameters with Mastodon’s errors, and nothing else', async () => {
      const { token } = await person('asker');
      const error = async (query: Record<string, string>, as: string | null = token) => {
        const res = await search(query, as);
        return [res.status, (res.body as unknown as { error: string }).error];
      };
      expect(await error({})).toEqual([400, 'param is missing or the value is empty: q']);
      expect(await error({ q: '' })).toEqual([400, 'param is missing or the value is empty: q']);
      expect(await error({ q: 'x', limit: '-1' })).toEqual([
        400,
        'Pagination values for `offset` and `limit` must be positive',
      ]);
      expect(await error({ q: 'x', offset: '-5', type: 'accounts' })).toEqual([
        400,
        'Pagination values for `offset` and `limit` must be positive',
      ]);
      expect((await error({ q: 'x', limit: 'ten' }))[0]).toBe(400);
      expect(await error({ q: 'x', type: 'people' })).toEqual([
        400,
        'type must be one of accounts, hashtags, statuses',
      ]);
      expect(await error({ q: 'x', max_id: 'abc' })).toEqual([400, 'max_id must be an id']);
      expect(await error({ q: 'x', offset: '1', type: 'accounts' }, null)).toEqual([
        401,
        'Search queries pagination is not supported without authentication',
      ]);
      expect(await error({ q: 'x', resolve: 'true' }, null)).toEqual([
        401,
        'Search queries that resolve remote resources are not supported without authentication',
      ]);
      expect((await error({ q: 'x before:yesterday', type: 'statuses' }))[0]).toBe(422);
      expect(await error({ q: 'x', type: 'statuses', account_id: '12345' })).toEqual([
        404,
        'Record not found',
      ]);
      expect((await search({ q: 'asker', limit: '0' }, token)).body).toEqual({
        accounts: [],
        statuses: [],
        hashtags: [],
      });
      expect((await get('/api/v1/tags/not%20a%20tag', null)).status).toBe(404);
      expect((await get('/api/v1/timelines/tag/x?any[]=a&any[]=b&limit=abc', null)).status).toBe(400);
    });
  });

  describe('tag timeline', () => {
    it('shows public statuses with the tag, narrowed by any, all and none, paged by the Link header', async () => {
      const author = await person('cyclist');
      const viewer = await person('cycleviewer');
      const one = await post(author.token, { status: 'Lanes #Bikes #Safety' });
      const two = await post(author.token, { status: 'Racks #bikes' });
      const three = await post(author.token, { status: 'Ideas #Bikes #Draft' });
      const other = await post(author.token, { status: 'Trains #Rail' });
      await post(author.token, { status: 'Private #Bikes', visibility: 'private' });
      await post(author.token, { status: 'Quiet #Bikes', visibility: 'unlisted' });

      const ids = async (query: string, token: string | null = null) => {
        const res = await get<Status[]>(`/api/v1/timelines/tag/bikes${query}`, token);
        expect(res.status).toBe(200);
        return res.body.map((s) => s.id);
      };
      expect(await ids('')).toEqual([three.id, two.id, one.id]);
      expect(await ids('?any[]=rail')).toEqual([other.id, three.id, two.id, one.id]);
      expect(await ids('?all[]=safety')).toEqual([one.id]);
      expect(await ids('?none[]=draft&none[]=safety')).toEqual([two.id]);
      expect(await ids('?local=true')).toEqual([three.id, two.id, one.id]);
      expect(await ids('?remote=true')).toEqual([]);
      expect(await ids('?only_media=true')).toEqual([]);
      expect((await get<Status[]>('/api/v1/timelines/tag/nosuchtag', null)).body).toEqual([]);

      // Paging: limit 2, then the `next` link, then back with `prev`.
      const first = await get<Status[]>('/api/v1/timelines/tag/bikes?limit=2', null);
      expect(first.body.map((s) => s.id)).toEqual([three.id, two.id]);
      const next = linkTo(first.link, 'next')!;
      expect(next).toBe(`${base}/api/v1/timelines/tag/bikes?limit=2&max_id=${two.id}`);
      const second = await get<Status[]>(next, null);
      expect(second.body.map((s) => s.id)).toEqual([one.id]);
      const back = await get<Status[]>(linkTo(second.link, 'prev')!, null);
      expect(back.body.map((s) => s.id)).toEqual([three.id, two.id]);

      // A viewer who mutes the author sees none of it; masto.js reads the timeline too.
      const client = createRestAPIClient({ url: base, accessToken: viewer.token });
      expect((await client.v1.timelines.tag.$select('Bikes').list({ limit: 2 })).map((s) => s.id)).toEqual([
        three.id,
        two.id,
      ]);
      await call('POST', `/api/v1/accounts/${author.id}/mute`, viewer.token);
      expect(await ids('', viewer.token)).toEqual([]);
    });
  });

  describe('followed tags', () => {
    it('brings public statuses with a followed tag into home, not from muted accounts, and takes them out on unfollow', async () => {
      const reader = await person('commuter');
      const agency = await person('transitagency');
      const muted = await person('transitnoise');
      await call('POST', `/api/v1/accounts/${muted.id}/mute`, reader.token);
      const client = createRestAPIClient({ url: base, accessToken: reader.token });

      const followed = await client.v1.tags.$select('Transit').follow();
      expect(followed).toMatchObject({ name: 'Transit', following: true, url: `${base}/tags/transit` });
      const news = await post(agency.token, { status: 'New bus line #transit' });
      const hidden = await post(agency.token, { status: 'Staff only #transit', visibility: 'private' });
      const noise = await post(muted.token, { status: 'Me too #Transit' });
      const mentioning = await post(agency.token, { status: 'Thanks @transitnoise #transit' });
      const untagged = await post(agency.token, { status: 'Nothing to see' });

      const home = async () =>
        ((await get<Status[]>('/api/v1/timelines/home', reader.token)).body as Status[]).map((s) => s.id);
      const inHome = await home();
      expect(inHome).toContain(news.id);
      for (const absent of [hidden.id, noise.id, mentioning.id, untagged.id])
        expect(inHome).not.toContain(absent);

      expect((await get<Tag>('/api/v1/tags/transit', reader.token)).body).toMatchObject({
        name: 'Transit',
        following: true,
      });
      expect((await client.v1.followedTags.list()).map((t) => t.name)).toEqual(['Transit']);

      const unfollowed = await call<Tag>('POST', '/api/v1/tags/TRANSIT/unfollow', reader.token);
      expect(unfollowed.body).toMatchObject({ name: 'Transit', following: false });
      expect(await home()).not.toContain(news.id);
      // Following again, and unfollowing a tag nobody follows, are both fine.
      expect((await call<Tag>('POST', '/api/v1/tags/never_used/unfollow', reader.token)).body).toMatchObject({
        name: 'never_used',
        following: false,
      });
      expect((await call('POST', '/api/v1/tags/transit/follow', null)).status).toBe(401);
      const readOnly = await bed.token('alpha', 'commuter', 'read');
      expect((await call('POST', '/api/v1/tags/transit/follow', readOnly)).status).toBe(403);
    });

    it('pages the followed tags by the Link header as Mastodon does', async () => {
      const { token } = await person('tagcollector');
      for (const name of ['alpha_one', 'alpha_two', 'alpha_three']) {
        expect((await call('POST', `/api/v1/tags/${name}/follow`, token)).status).toBe(200);
      }
      const first = await get<Tag[]>('/api/v1/followed_tags?limit=2', token);
      expect(first.body.map((t) => t.name)).toEqual(['alpha_three', 'alpha_two']);
      const next = linkTo(first.link, 'next')!;
      expect(linkTo(first.link, 'prev')).toContain('since_id=');
      const second = await get<Tag[]>(next, token);
      expect(second.body.map((t) => t.name)).toEqual(['alpha_one']);
      expect(linkTo(second.link, 'next')).toBeUndefined();
    });
  });

  describe('featured tags', () => {
    it('features tags on a profile with their use, at most ten, and suggests recently used ones', async () => {
      const me = await person('featurer');
      const other = await person('featurer2');
      await post(me.token, { status: 'One #Housing #Planning' });
      await post(me.token, { status: 'Two #housing' });
      await post(me.token, { status: 'Three #Housing', visibility: 'private' });

      const created = await call<FeaturedTag>('POST', '/api/v1/featured_tags', me.token, {
        name: '#Housing',
      });
      expect(created.status).toBe(200);
      const today = new Date().toISOString().slice(0, 10);
      expect(created.body).toEqual({
        id: expect.any(String),
        name: 'Housing',
        url: `${base}/@featurer/tagged/housing`,
        statuses_count: '2',
        last_status_at: today,
      });
      expect(
        (await call<FeaturedTag>('POST', '/api/v1/featured_tags', me.token, { name: 'housing' })).body.id,
      ).toBe(created.body.id);
      const invalid = await call('POST', '/api/v1/featured_tags', me.token, { name: 'not valid' });
      expect(invalid).toEqual({ status: 422, body: { error: 'Validation failed: Name is invalid' } });
      expect((await call('POST', '/api/v1/featured_tags', me.token, {})).status).toBe(400);

      expect(
        (await get<Tag[]>('/api/v1/featured_tags/suggestions', me.token)).body.map((t) => t.name),
      ).toEqual(['Planning']);
      for (let i = 0; i < 9; i++) {
        expect((await call('POST', '/api/v1/featured_tags', me.token, { name: `topic${i}` })).status).toBe(
          200,
        );
      }
      expect(await call('POST', '/api/v1/featured_tags', me.token, { name: 'onetoomany' })).toEqual({
        status: 422,
        body: { error: 'Validation failed: You have already featured the maximum number of hashtags' },
      });

      const mine = await get<FeaturedTag[]>('/api/v1/featured_tags', me.token);
      expect(mine.body).toHaveLength(10);
      expect(mine.body[0].name).toBe('Housing');
      const shown = await get<FeaturedTag[]>(`/api/v1/accounts/${me.id}/featured_tags`, null);
      expect(shown.body).toEqual(mine.body);
      expect((await get('/api/v1/accounts/999999/featured_tags', null)).status).toBe(404);

      expect((await call('DELETE', `/api/v1/featured_tags/${created.body.id}`, other.token)).status).toBe(
        404,
      );
      expect(await call('DELETE', `/api/v1/featured_tags/${created.body.id}`, me.token)).toEqual({
        status: 200,
        body: {},
      });
      expect((await call('DELETE', `/api/v1/featured_tags/${created.body.id}`, me.token)).status).toBe(404);
      expect((await get<FeaturedTag[]>('/api/v1/featured_tags', me.token)).body).toHaveLength(9);
    });
  });
});
