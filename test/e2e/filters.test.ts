import { createRestAPIClient } from 'masto';
import { TenantTransactions, tenantRef } from '@townhall/tenancy';
import type {
  MastodonFilter,
  MastodonFilterKeyword,
  MastodonFilterResult,
  MastodonV1Filter,
} from '../../apps/instance/src/presenters/filter.presenter';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type Filter = Required<MastodonFilter>;
type Keyword = MastodonFilterKeyword;
type FilterResult = MastodonFilterResult;
type V1Filter = MastodonV1Filter;
type Status = { id: string; content: string; filtered?: FilterResult[]; reblog: Status | null };

const DOMAIN = 'social.alpha.test';

/**
 * Filters as Mastodon 4.3 keeps and applies them, over real HTTP with PostgreSQL and Redis: the v2 API
 * (with masto.js, JSON, form and query bodies), the deprecated v1 API mapped onto it, and what every
 * timeline does with them — `filtered` on each status, `hide` filters applied server-side per context.
 */
describe('Filters v1 and v2, applied in every timeline (real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;
  let base: string;
  const people: Record<string, { id: string; token: string }> = {};

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: DOMAIN, displayName: 'Alpha', adminEmail: 'press@alpha.example' },
    ]);
    base = bed.base.alpha;
    for (const name of ['reader', 'agency', 'booster', 'stranger', 'intruder', 'v1user', 'capped']) {
      const { id } = await bed.account('alpha', name);
      people[name] = { id, token: await bed.token('alpha', name) };
    }
    // The reader's home timeline holds what the agency and the booster post and boost.
    for (const followed of ['agency', 'booster']) {
      expect((await call('POST', `/api/v1/accounts/${people[followed].id}/follow`, 'reader')).status).toBe(
        200,
      );
    }
  });

  afterAll(async () => {
    await bed?.close();
  });

  function call<T = unknown>(
    method: string,
    path: string,
    who: string | null,
    body?: Record<string, unknown> | URLSearchParams,
  ) {
    return callApi<T>(base, method, path, who ? people[who].token : null, body);
  }

  const post = async (who: string, body: Record<string, unknown>) => {
    const res = await call<Status>('POST', '/api/v1/statuses', who, body);
    expect(res.status).toBe(200);
    return res.body;
  };

  const masto = (who: string) => createRestAPIClient({ url: base, accessToken: people[who].token });

  const createFilter = async (who: string, body: Record<string, unknown> | URLSearchParams) => {
    const res = await call<Filter>('POST', '/api/v2/filters', who, body);
    expect(res.status).toBe(200);
    return res.body;
  };

  const removeAllFilters = async (who: string) => {
    for (const f of (await call<Filter[]>('GET', '/api/v2/filters', who)).body) {
      expect((await call('DELETE', `/api/v2/filters/${f.id}`, who)).status).toBe(200);
    }
  };

  const timeline = async (path: string, who = 'reader') => {
    const res = await call<Status[]>('GET', path, who);
    expect(res.status).toBe(200);
    return res.body;
  };

  /** Rows of the filter tables, straight from the tenant's schema: what a refused request must not add. */
  const storedRules = () =>
    bed.app.get(TenantTransactions).runIn(tenantRef(bed.tenants.alpha, DOMAIN), async (m) => {
      const [filters] = (await m.query(`SELECT count(*)::int AS n FROM filters`)) as { n: number }[];
      const [rules] = (await m.query(`SELECT count(*)::int AS n FROM filter_rules`)) as { n: number }[];
      const [changed] = (await m.query(
        `SELECT coalesce(string_agg(title || ':' || array_to_string(context, ',') || ':' || action, ';' ORDER BY id), '') AS s
             FROM filters`,
      )) as { s: string }[];
      const [words] = (await m.query(
        `SELECT coalesce(string_agg(coalesce(keyword, '') || ':' || whole_word, ';' ORDER BY id), '') AS s
             FROM filter_rules`,
      )) as { s: string }[];
      return { filters: filters.n, rules: rules.n, settings: changed.s, keywords: words.s };
    });

  describe('the v2 API', () => {
    afterEach(() => removeAllFilters('reader'));

    it('creates, lists, reads, changes and deletes a filter with its keywords through masto.js (JSON)', async () => {
      const client = masto('reader');
      const created = await client.v2.filters.create({
        title: 'Election season',
        context: ['home', 'public'],
        filterAction: 'warn',
        expiresIn: 3600,
        keywordsAttributes: [
          { keyword: 'election', wholeWord: true },
          { keyword: 'tax', wholeWord: false },
        ],
      });
      expect(created).toMatchObject({
        id: expect.stringMatching(/^\d+$/),
        title: 'Election season',
        context: ['home', 'public'],
        filterAction: 'warn',
        keywords: [
          { id: expect.stringMatching(/^\d+$/), keyword: 'election', wholeWord: true },
          { id: expect.stringMatching(/^\d+$/), keyword: 'tax', wholeWord: false },
        ],
        statuses: [],
      });
      const expiresIn = new Date(created.expiresAt!).getTime() - Date.now();
      expect(expiresIn).toBeGreaterThan(3500_000);
      expect(expiresIn).toBeLessThanOrEqual(3600_000);

      expect(await client.v2.filters.list()).toEqual([created]);
      expect(await client.v2.filters.$select(created.id).fetch()).toEqual(created);

      const [election, tax] = created.keywords;
      const updated = await client.v2.filters.$select(created.id).update({
        title: 'Campaigns',
        context: ['home'],
        filterAction: 'hide',
        expiresIn: null,
        keywordsAttributes: [
          { id: election.id, _destroy: true },
          { id: tax.id, keyword: 'taxes' },
          { keyword: 'ballot', wholeWord: false },
        ],
      });
      expect(updated).toMatchObject({
        id: created.id,
        title: 'Campaigns',
        context: ['home'],
        filterAction: 'hide',
        expiresAt: null,
        keywords: [
          { id: tax.id, keyword: 'taxes', wholeWord: false },
          { id: expect.stringMatching(/^\d+$/), keyword: 'ballot', wholeWord: false },
        ],
      });

      // Keywords on their own.
      const keywords = client.v2.filters.$select(created.id).keywords;
      const added = await keywords.create({ keyword: 'polling station' });
      expect(added).toEqual({
        id: expect.stringMatching(/^\d+$/),
        keyword: 'polling station',
        wholeWord: true,
      });
      expect((await keywords.list()).map((k) => k.keyword)).toEqual(['taxes', 'ballot', 'polling station']);
      expect(await client.v2.filters.keywords.$select(added.id).fetch()).toEqual(added);
      expect(
        await client.v2.filters.keywords.$select(added.id).update({ keyword: 'polls', wholeWord: false }),
      ).toEqual({ id: added.id, keyword: 'polls', wholeWord: false });
      await client.v2.filters.keywords.$select(added.id).remove();
      expect((await keywords.list()).map((k) => k.keyword)).toEqual(['taxes', 'ballot']);

      await client.v2.filters.$select(created.id).remove();
      expect(await client.v2.filters.list()).toEqual([]);
      await expect(client.v2.filters.$select(created.id).fetch()).rejects.toMatchObject({ statusCode: 404 });
      // The filter's keywords went with it.
      expect((await call('GET', `/api/v2/filters/keywords/${tax.id}`, 'reader')).status).toBe(404);
    });

    it("reads form bodies and query strings with Rails' keywords_attributes[][keyword]", async () => {
      const created = await createFilter(
        'reader',
        new URLSearchParams(
          'title=test&context[]=public&context[]=+thread+&context[]=' +
            '&keywords_attributes[][keyword]=foo&keywords_attributes[][whole_word]=false' +
            '&keywords_attributes[][keyword]=bar&keywords_attributes[][whole_word]=true' +
            // All blank (false counts as blank): left out, as Rails' reject_if: :all_blank does.
            '&keywords_attributes[][keyword]=&keywords_attributes[][whole_word]=false' +
            // Marked for removal without an id: not added.
            '&keywords_attributes[][keyword]=gone&keywords_attributes[][_destroy]=1',
        ),
      );
      expect(created).toMatchObject({
        title: 'test',
        context: ['public', 'thread'],
        filter_action: 'warn',
        expires_at: null,
        keywords: [
          { keyword: 'foo', whole_word: false },
          { keyword: 'bar', whole_word: true },
        ],
      });
      const [foo, bar] = created.keywords;

      // Mastodon's documented update, sent as a query string: removes foo, renames bar.
      const updated = await call<Filter>(
        'PUT',
        `/api/v2/filters/${created.id}?keywords_attributes[][id]=${foo.id}&keywords_attributes[][_destroy]=true` +
          `&keywords_attributes[][id]=${bar.id}&keywords_attributes[][keyword]=baz`,
        'reader',
      );
      expect(updated.status).toBe(200);
      expect(updated.body.keywords).toEqual([{ id: bar.id, keyword: 'baz', whole_word: true }]);

      // Index-keyed nested attributes, as Rails also reads them.
      const indexed = await call<Filter>(
        'PUT',
        `/api/v2/filters/${created.id}`,
        'reader',
        new URLSearchParams(
          'keywords_attributes[0][keyword]=one&keywords_attributes[1][keyword]=two&filter_action=blur',
        ),
      );
      expect(indexed.body).toMatchObject({
        filter_action: 'blur',
        keywords: [{ keyword: 'baz' }, { keyword: 'one' }, { keyword: 'two' }],
      });

      const keyword = await call<Keyword>(
        'POST',
        `/api/v2/filters/${created.id}/keywords`,
        'reader',
        new URLSearchParams('keyword=form+word&whole_word=0'),
      );
      expect(keyword).toMatchObject({ status: 200, body: { keyword: 'form word', whole_word: false } });
    });

    it('refuses bad input with 422 in Mastodon’s words and writes nothing', async () => {
      const existing = await createFilter('reader', {
        title: 'Kept',
        context: ['home'],
        keywords_attributes: [{ keyword: 'kept' }],
      });
      const before = await storedRules();
      const refused: [string, string, Record<string, unknown> | URLSearchParams, string][] = [
        [
          'POST',
          '/api/v2/filters',
          { title: 'x', context: ['home', 'elsewhere'] },
          'Validation failed: Context None or invalid context supplied',
        ],
        [
          'POST',
          '/api/v2/filters',
          { title: '', context: ['home'] },
          "Validation failed: Title can't be blank",
        ],
        [
          'POST',
          '/api/v2/filters',
          { title: '  ', context: [] },
          "Validation failed: Title can't be blank, Context can't be blank, Context None or invalid context supplied",
        ],
        [
          'POST',
          '/api/v2/filters',
          new URLSearchParams('title=x&context=home'),
          "Validation failed: Context can't be blank, Context None or invalid context supplied",
        ],
        [
          'POST',
          '/api/v2/filters',
          { title: 'x', context: ['home'], filter_action: 'delete' },
          'Validation failed: Filter action is not included in the list',
        ],
        [
          'POST',
          '/api/v2/filters',
          { title: 'x', context: ['home'], expires_in: 'soon' },
          'Validation failed: expires_in must be a whole number of seconds from 0 to 2147483647',
        ],
        [
          'POST',
          '/api/v2/filters',
          {
            title: 'x',
            context: ['home'],
            keywords_attributes: [{ keyword: 'ok' }, { keyword: ' ', whole_word: true }],
          },
          "Validation failed: Keywords keyword can't be blank",
        ],
        [
          'POST',
          '/api/v2/filters',
          {
            title: 'x',
            context: ['home'],
            keywords_attributes: Array.from({ length: 201 }, (_, i) => ({ keyword: `k${i}` })),
          },
          'Validation failed: Keywords are too many (maximum is 200 in a filter)',
        ],
        [
          'POST',
          '/api/v2/filters',
          { title: 'x'.repeat(257), context: ['home'] },
          'Validation failed: Title is too long (maximum is 256 characters)',
        ],
        [
          'POST',
          '/api/v2/filters',
          { title: 'x', context: ['home'], keywords_attributes: [{ keyword: 'x', whole_word: 'maybe' }] },
          'Validation failed: keywords_attributes[0][whole_word] must be true or false',
        ],
        [
          'PUT',
          `/api/v2/filters/${existing.id}`,
          { title: '', keywords_attributes: [{ keyword: 'new one' }] },
          "Validation failed: Title can't be blank",
        ],
        [
          'PUT',
          `/api/v2/filters/${existing.id}`,
          { context: ['home', 'nowhere'], title: 'Changed' },
          'Validation failed: Context None or invalid context supplied',
        ],
        [
          'POST',
          `/api/v2/filters/${existing.id}/keywords`,
          { whole_word: true },
          "Validation failed: Keyword can't be blank",
        ],
        [
          'PUT',
          `/api/v2/filters/keywords/${existing.keywords[0].id}`,
          { keyword: '' },
          "Validation failed: Keyword can't be blank",
        ],
        [
          'POST',
          '/api/v1/filters',
          { phrase: '', context: ['home'] },
          "Validation failed: Title can't be blank",
        ],
        [
          'POST',
          '/api/v1/filters',
          { phrase: 'x', context: ['home', 'timeline'] },
          'Validation failed: Context None or invalid context supplied',
        ],
      ];
      for (const [method, path, body, error] of refused) {
        const res = await call<{ error: string }>(method, path, 'reader', body);
        expect({ method, path, status: res.status, body: res.body }).toEqual({
          method,
          path,
          status: 422,
          body: { error },
        });
      }
      // A keyword id that is not this filter's is not found, and nothing else in the request happens.
      const other = await createFilter('reader', {
        title: 'Other',
        context: ['home'],
        keywords_attributes: [{ keyword: 'theirs' }],
      });
      const middle = await storedRules();
      const stray = await call<{ error: string }>('PUT', `/api/v2/filters/${existing.id}`, 'reader', {
        title: 'Renamed',
        keywords_attributes: [{ keyword: 'added' }, { id: other.keywords[0].id, keyword: 'stolen' }],
      });
      expect(stray).toEqual({ status: 404, body: { error: 'Record not found' } });
      expect(await storedRules()).toEqual(middle);
      const createWithId = await call('POST', '/api/v2/filters', 'reader', {
        title: 'With id',
        context: ['home'],
        keywords_attributes: [{ id: existing.keywords[0].id, keyword: 'x' }],
      });
      expect(createWithId.status).toBe(404);
      await call('DELETE', `/api/v2/filters/${other.id}`, 'reader');
      expect(await storedRules()).toEqual(before);
      expect((await call('GET', `/api/v2/filters/${existing.id}`, 'reader')).body).toEqual(existing);
    });

    it("answers 404 for another user's filters, keywords and statuses, and leaves them alone", async () => {
      const status = await post('agency', { status: 'Something to filter' });
      const mine = await createFilter('reader', {
        title: 'Mine',
        context: ['home'],
        keywords_attributes: [{ keyword: 'mine' }],
      });
      const filtered = await call<{ id: string }>('POST', `/api/v2/filters/${mine.id}/statuses`, 'reader', {
        status_id: status.id,
      });
      expect(filtered.status).toBe(200);
      const before = await storedRules();
      const keywordId = mine.keywords[0].id;
      for (const [method, path, body] of [
        ['GET', `/api/v2/filters/${mine.id}`],
        ['PUT', `/api/v2/filters/${mine.id}`, { title: 'Taken over' }],
        ['DELETE', `/api/v2/filters/${mine.id}`],
        ['GET', `/api/v2/filters/${mine.id}/keywords`],
        ['POST', `/api/v2/filters/${mine.id}/keywords`, { keyword: 'planted' }],
        ['GET', `/api/v2/filters/keywords/${keywordId}`],
        ['PUT', `/api/v2/filters/keywords/${keywordId}`, { keyword: 'changed' }],
        ['DELETE', `/api/v2/filters/keywords/${keywordId}`],
        ['GET', `/api/v2/filters/${mine.id}/statuses`],
        ['POST', `/api/v2/filters/${mine.id}/statuses`, { status_id: status.id }],
        ['GET', `/api/v2/filters/statuses/${filtered.body.id}`],
        ['DELETE', `/api/v2/filters/statuses/${filtered.body.id}`],
        ['GET', `/api/v1/filters/${keywordId}`],
        ['PUT', `/api/v1/filters/${keywordId}`, { phrase: 'changed' }],
        ['DELETE', `/api/v1/filters/${keywordId}`],
        ['GET', '/api/v2/filters/not-an-id'],
      ] as [string, string, Record<string, unknown>?][]) {
        const res = await call(method, path, 'intruder', body);
        expect({ method, path, status: res.status, body: res.body }).toEqual({
          method,
          path,
          status: 404,
          body: { error: 'Record not found' },
        });
      }
      expect((await call('GET', '/api/v2/filters', 'intruder')).body).toEqual([]);
      expect((await call('GET', '/api/v1/filters', 'intruder')).body).toEqual([]);
      expect(await storedRules()).toEqual(before);
    });

    it('needs the filters scopes: read:filters reads, write:filters writes', async () => {
      const readOnly = await bed.token('alpha', 'reader', 'read:filters');
      expect((await callApi(base, 'GET', '/api/v2/filters', readOnly)).status).toBe(200);
      expect((await callApi(base, 'GET', '/api/v1/filters', readOnly)).status).toBe(200);
      const refused = await callApi(base, 'POST', '/api/v2/filters', readOnly, {
        title: 'x',
        context: ['home'],
      });
      expect(refused.status).toBe(403);
      const statusesOnly = await bed.token('alpha', 'reader', 'read:statuses write:statuses');
      expect((await callApi(base, 'GET', '/api/v2/filters', statusesOnly)).status).toBe(403);
      expect((await callApi(base, 'GET', '/api/v2/filters', null)).status).toBe(401);
      expect((await call<Filter[]>('GET', '/api/v2/filters', 'reader')).body).toEqual([]);
    });
  });

  describe('applied to statuses', () => {
    afterEach(async () => {
      await removeAllFilters('reader');
      await removeAllFilters('agency');
    });

    it('warns with the text each filter found: whole words, substrings, any case, any script', async () => {
      const election = await post('agency', { status: 'The ELECTION results are in' });
      const reelection = await post('agency', { status: 'Reelection campaign starts' });
      const taxation = await post('agency', { status: 'Taxation news' });
      const cafe = await post('agency', { status: 'Le café est servi' });
      const cafes = await post('agency', { status: 'Les cafés ferment' });
      const warned = await post('agency', { status: 'Nothing here', spoiler_text: 'about the election' });
      const hashtag = await post('agency', { status: 'Join #budget2025 today' });
      const created = await masto('reader').v2.filters.create({
        title: 'Politics',
        context: ['home', 'public'],
        keywordsAttributes: [
          { keyword: 'election', wholeWord: true },
          { keyword: 'tax', wholeWord: false },
          { keyword: 'café', wholeWord: true },
          { keyword: '#budget', wholeWord: false },
        ],
      });

      const home = await masto('reader').v1.timelines.home.list({ limit: 40 });
      const byId = new Map(home.map((s) => [s.id, s]));
      const matchesOf = (s: { id: string }) => byId.get(s.id)!.filtered!.map((r) => r.keywordMatches);
      expect(byId.get(election.id)!.filtered).toEqual([
        {
          filter: {
            id: created.id,
            title: 'Politics',
            context: ['home', 'public'],
            expiresAt: null,
            filterAction: 'warn',
          },
          keywordMatches: ['ELECTION'],
          statusMatches: null,
        },
      ]);
      expect(matchesOf(reelection)).toEqual([]);
      expect(matchesOf(taxation)).toEqual([['Tax']]);
      expect(matchesOf(cafe)).toEqual([['café']]);
      expect(matchesOf(cafes)).toEqual([]);
      expect(matchesOf(warned)).toEqual([['election']]);
      expect(matchesOf(hashtag)).toEqual([['#budget']]);

      // The same on the public timeline and on a single status; nothing for someone signed out.
      const publicLine = await timeline('/api/v1/timelines/public?limit=40');
      expect(publicLine.find((s) => s.id === election.id)!.filtered![0].keyword_matches).toEqual([
        'ELECTION',
      ]);
      expect(
        (await call<Status>('GET', `/api/v1/statuses/${taxation.id}`, 'reader')).body.filtered,
      ).toHaveLength(1);
      expect(
        (await call<Status>('GET', `/api/v1/statuses/${taxation.id}`, null)).body.filtered,
      ).toBeUndefined();
      // Another user's filters are theirs alone.
      expect(
        (await call<Status>('GET', `/api/v1/statuses/${taxation.id}`, 'stranger')).body.filtered,
      ).toEqual([]);
    });

    it('hides what a hide filter matches, server-side, only in the contexts it names', async () => {
      const secret = await post('agency', { status: 'Top secret plans' });
      const plain = await post('agency', { status: 'Open plans' });
      const own = await post('reader', { status: 'My secret is safe with me' });
      const filter = await createFilter('reader', {
        title: 'Spoilers',
        context: ['home'],
        filter_action: 'hide',
        keywords_attributes: [{ keyword: 'secret' }],
      });

      const ids = (statuses: Status[]) => statuses.map((s) => s.id);
      const home = await timeline('/api/v1/timelines/home?limit=40');
      expect(ids(home)).toContain(plain.id);
      expect(ids(home)).not.toContain(secret.id);
      // The viewer's own statuses stay, as Mastodon's apps show them.
      expect(ids(home)).toContain(own.id);
      // A filter for home does not touch the public timeline: the status is there, named as matching.
      const publicLine = await timeline('/api/v1/timelines/public?limit=40');
      const shown = publicLine.find((s) => s.id === secret.id)!;
      expect(shown.filtered).toEqual([
        {
          filter: {
            id: filter.id,
            title: 'Spoilers',
            context: ['home'],
            expires_at: null,
            filter_action: 'hide',
          },
          keyword_matches: ['secret'],
          status_matches: null,
        },
      ]);

      // Paging still counts what was left out: the next page starts after the hidden status.
      const newest = await call<Status[]>(
        'GET',
        `/api/v1/timelines/home?limit=1&max_id=${plain.id}`,
        'reader',
      );
      expect(newest.body).toEqual([]);
      const link = (
        await fetch(`${base}/api/v1/timelines/home?limit=1&max_id=${plain.id}`, {
          headers: { authorization: `Bearer ${people.reader.token}` },
        })
      ).headers.get('link');
      expect(link).toContain(`max_id=${secret.id}`);

      await call('PUT', `/api/v2/filters/${filter.id}`, 'reader', {
        context: ['home', 'public', 'thread', 'account'],
      });
      expect(ids(await timeline('/api/v1/timelines/public?limit=40'))).not.toContain(secret.id);
      expect(ids(await timeline(`/api/v1/accounts/${people.agency.id}/statuses`))).not.toContain(secret.id);
      expect(ids(await timeline(`/api/v1/accounts/${people.agency.id}/statuses`))).toContain(plain.id);
      // Others still see it; asked for by id, the viewer does too.
      expect(ids(await timeline('/api/v1/timelines/public?limit=40', 'stranger'))).toContain(secret.id);
      const single = await call<Status>('GET', `/api/v1/statuses/${secret.id}`, 'reader');
      expect(single.status).toBe(200);
      expect(single.body.filtered![0].filter.filter_action).toBe('hide');

      // In a thread: the hidden reply is left out of the context, the others stay.
      const root = await post('agency', { status: 'A thread' });
      const hiddenReply = await post('stranger', { status: 'the secret answer', in_reply_to_id: root.id });
      const openReply = await post('stranger', { status: 'an open answer', in_reply_to_id: root.id });
      const context = await call<{ ancestors: Status[]; descendants: Status[] }>(
        'GET',
        `/api/v1/statuses/${root.id}/context`,
        'reader',
      );
      expect(ids(context.body.descendants)).toEqual([openReply.id]);
      const fromReply = await call<{ ancestors: Status[] }>(
        'GET',
        `/api/v1/statuses/${openReply.id}/context`,
        'reader',
      );
      expect(ids(fromReply.body.ancestors)).toEqual([root.id]);
      const anonymous = await call<{ descendants: Status[] }>(
        'GET',
        `/api/v1/statuses/${root.id}/context`,
        null,
      );
      expect(ids(anonymous.body.descendants)).toEqual([hiddenReply.id, openReply.id]);
    });

    it('matches a reblog by the status it reblogs and hides it with that status', async () => {
      const original = await post('stranger', { status: 'A leaked memo' });
      const boost = await call<Status>('POST', `/api/v1/statuses/${original.id}/reblog`, 'booster');
      expect(boost.status).toBe(200);
      const filter = await createFilter('reader', {
        title: 'Leaks',
        context: ['home'],
        keywords_attributes: [{ keyword: 'memo' }],
      });
      const home = await masto('reader').v1.timelines.home.list({ limit: 40 });
      const shown = home.find((s) => s.id === boost.body.id)!;
      expect(shown.reblog!.id).toBe(original.id);
      expect(shown.filtered!.map((r) => r.keywordMatches)).toEqual([['memo']]);
      expect(shown.reblog!.filtered!.map((r) => r.keywordMatches)).toEqual([['memo']]);

      // The original status in a filter: its reblog matches by the original's id.
      await call('PUT', `/api/v2/filters/${filter.id}`, 'reader', {
        keywords_attributes: [{ id: filter.keywords[0].id, _destroy: true }],
      });
      const added = await call<{ id: string; status_id: string }>(
        'POST',
        `/api/v2/filters/${filter.id}/statuses`,
        'reader',
        { status_id: original.id },
      );
      expect(added).toEqual({
        status: 200,
        body: { id: expect.stringMatching(/^\d+$/), status_id: original.id },
      });
      const again = (await timeline('/api/v1/timelines/home?limit=40')).find((s) => s.id === boost.body.id)!;
      expect(again.filtered).toEqual([
        expect.objectContaining({ keyword_matches: null, status_matches: [original.id] }),
      ]);

      await call('PUT', `/api/v2/filters/${filter.id}`, 'reader', { filter_action: 'hide' });
      expect((await timeline('/api/v1/timelines/home?limit=40')).map((s) => s.id)).not.toContain(
        boost.body.id,
      );
    });

    it('keeps status filters: one per status, only statuses the user may see, removed on request', async () => {
      const target = await post('agency', { status: 'An ordinary announcement' });
      const privateOne = await post('stranger', { status: 'For my followers', visibility: 'private' });
      const filter = await createFilter('reader', { title: 'Posts', context: ['public'] });
      const client = masto('reader');
      const statuses = client.v2.filters.$select(filter.id).statuses;
      const added = await statuses.create({ statusId: target.id });
      expect(added).toEqual({ id: expect.stringMatching(/^\d+$/), statusId: target.id });
      expect(await statuses.list()).toEqual([added]);
      expect(await client.v2.filters.statuses.$select(added.id).fetch()).toEqual(added);
      expect((await client.v2.filters.$select(filter.id).fetch()).statuses).toEqual([added]);

      const before = await storedRules();
      for (const [statusId, error] of [
        [target.id, 'Validation failed: Status has already been taken'],
        [privateOne.id, 'Validation failed: Status is invalid'],
        ['99999999999', 'Validation failed: Status is invalid'],
        ['', 'Validation failed: Status must exist'],
      ]) {
        const res = await call('POST', `/api/v2/filters/${filter.id}/statuses`, 'reader', {
          status_id: statusId,
        });
        expect(res).toEqual({ status: 422, body: { error } });
      }
      expect(await storedRules()).toEqual(before);

      const publicLine = await timeline('/api/v1/timelines/public?limit=40');
      expect(publicLine.find((s) => s.id === target.id)!.filtered).toEqual([
        expect.objectContaining({ keyword_matches: null, status_matches: [target.id] }),
      ]);
      expect(await call('DELETE', `/api/v2/filters/statuses/${added.id}`, 'reader')).toEqual({
        status: 200,
        body: {},
      });
      expect(await statuses.list()).toEqual([]);
      const after = await timeline('/api/v1/timelines/public?limit=40');
      expect(after.find((s) => s.id === target.id)!.filtered).toEqual([]);
    });

    it('applies to notifications: a hide filter of notifications leaves the notification out', async () => {
      const filter = await createFilter('agency', {
        title: 'Complaints',
        context: ['notifications'],
        filter_action: 'warn',
        keywords_attributes: [{ keyword: 'outrage' }],
      });
      const angry = await post('stranger', { status: '@agency this is an outrage' });
      const kind = await post('stranger', { status: '@agency thank you' });
      type Notification = { type: string; status?: Status };
      const mentions = async () =>
        (await call<Notification[]>('GET', '/api/v1/notifications?types[]=mention', 'agency')).body;
      const warned = await mentions();
      expect(warned.find((n) => n.status?.id === angry.id)!.status!.filtered![0].keyword_matches).toEqual([
        'outrage',
      ]);

      await call('PUT', `/api/v2/filters/${filter.id}`, 'agency', { filter_action: 'hide' });
      const shown = (await mentions()).map((n) => n.status?.id);
      expect(shown).toContain(kind.id);
      expect(shown).not.toContain(angry.id);
    });

    it('stops applying a filter once it expires', async () => {
      const status = await post('agency', { status: 'Budget day is here' });
      const filter = await createFilter('reader', {
        title: 'Budget',
        context: ['home', 'public'],
        filter_action: 'hide',
        expires_in: 3600,
        keywords_attributes: [{ keyword: 'budget' }],
      });
      const ids = async () => (await timeline('/api/v1/timelines/home?limit=40')).map((s) => s.id);
      expect(await ids()).not.toContain(status.id);

      // Expiring now: the filter is still listed, and no longer applied.
      const expired = await call<Filter>('PUT', `/api/v2/filters/${filter.id}`, 'reader', { expires_in: 0 });
      expect(new Date(expired.body.expires_at!).getTime()).toBeLessThanOrEqual(Date.now());
      expect(await ids()).toContain(status.id);
      const shown = (await timeline('/api/v1/timelines/home?limit=40')).find((s) => s.id === status.id)!;
      expect(shown.filtered).toEqual([]);
      expect((await call<Filter[]>('GET', '/api/v2/filters', 'reader')).body.map((f) => f.id)).toEqual([
        filter.id,
      ]);

      // A filter that runs out on its own, a second after it was made.
      await createFilter('reader', {
        title: 'Short',
        context: ['home'],
        expires_in: 1,
        keywords_attributes: [{ keyword: 'budget' }],
      });
      const deadline = Date.now() + 15_000;
      let filtered: FilterResult[] | undefined;
      do {
        filtered = (await timeline('/api/v1/timelines/home?limit=40')).find(
          (s) => s.id === status.id,
        )!.filtered;
      } while (filtered!.length > 0 && Date.now() < deadline);
      expect(filtered).toEqual([]);
    });
  });

  describe('the v1 API, mapped onto v2 filters', () => {
    it('creates a filter per phrase, lists and changes it as one keyword, and deletes only the keyword', async () => {
      const created = await call<V1Filter>(
        'POST',
        '/api/v1/filters',
        'v1user',
        new URLSearchParams(
          'phrase=weather&context[]=home&context[]=public&irreversible=true&whole_word=false&expires_in=86400',
        ),
      );
      expect(created).toEqual({
        status: 200,
        body: {
          id: expect.stringMatching(/^\d+$/),
          phrase: 'weather',
          context: ['home', 'public'],
          whole_word: false,
          expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          irreversible: true,
        },
      });
      const [v2] = (await call<Filter[]>('GET', '/api/v2/filters', 'v1user')).body;
      expect(v2).toMatchObject({
        title: 'weather',
        context: ['home', 'public'],
        filter_action: 'hide',
        expires_at: created.body.expires_at,
        keywords: [{ id: created.body.id, keyword: 'weather', whole_word: false }],
      });
      expect((await call('GET', '/api/v1/filters', 'v1user')).body).toEqual([created.body]);
      expect((await call('GET', `/api/v1/filters/${created.body.id}`, 'v1user')).body).toEqual(created.body);

      // Alone in its filter, a v1 filter changes everything: phrase (and title), context, action.
      const changed = await call<V1Filter>('PUT', `/api/v1/filters/${created.body.id}`, 'v1user', {
        phrase: 'storm',
        context: ['home'],
        irreversible: false,
        whole_word: true,
      });
      expect(changed.body).toMatchObject({
        id: created.body.id,
        phrase: 'storm',
        context: ['home'],
        irreversible: false,
        whole_word: true,
      });
      expect((await call<Filter>('GET', `/api/v2/filters/${v2.id}`, 'v1user')).body).toMatchObject({
        title: 'storm',
        filter_action: 'warn',
      });

      // Sharing its filter with another keyword, only the keyword itself may change.
      await call('POST', `/api/v2/filters/${v2.id}/keywords`, 'v1user', { keyword: 'rain' });
      const before = await storedRules();
      const shared = await call('PUT', `/api/v1/filters/${created.body.id}`, 'v1user', {
        context: ['public'],
      });
      expect(shared).toEqual({
        status: 422,
        body: {
          error:
            'These parameters cannot be changed from this application because they apply to more than one filter keyword. Use a more recent application or the web interface.',
        },
      });
      expect(await storedRules()).toEqual(before);
      const keywordOnly = await call<V1Filter>('PUT', `/api/v1/filters/${created.body.id}`, 'v1user', {
        whole_word: false,
        context: ['home'],
      });
      expect(keywordOnly).toMatchObject({ status: 200, body: { phrase: 'storm', whole_word: false } });
      const listed = (await call<V1Filter[]>('GET', '/api/v1/filters', 'v1user')).body;
      expect(listed.map((f) => f.phrase)).toEqual(['storm', 'rain']);

      // Deleting a v1 filter removes the keyword; its v2 filter stays with the others.
      expect(await call('DELETE', `/api/v1/filters/${created.body.id}`, 'v1user')).toEqual({
        status: 200,
        body: {},
      });
      const remaining = (await call<Filter>('GET', `/api/v2/filters/${v2.id}`, 'v1user')).body;
      expect(remaining.keywords.map((k) => k.keyword)).toEqual(['rain']);
      expect((await call('GET', `/api/v1/filters/${created.body.id}`, 'v1user')).status).toBe(404);
    });

    it('filters timelines with what a v1 filter created (whole word by default, as Mastodon stores it)', async () => {
      const created = await call<V1Filter>('POST', '/api/v1/filters', 'reader', {
        phrase: 'parade',
        context: ['home'],
      });
      expect(created.body).toMatchObject({ whole_word: true, irreversible: false, expires_at: null });
      const status = await post('agency', { status: 'The parade starts at noon' });
      const paradeGround = await post('agency', { status: 'Meet at the paradeground' });
      const home = await masto('reader').v1.timelines.home.list({ limit: 40 });
      expect(home.find((s) => s.id === status.id)!.filtered![0].keywordMatches).toEqual(['parade']);
      expect(home.find((s) => s.id === paradeGround.id)!.filtered).toEqual([]);
      await removeAllFilters('reader');
    });
  });

  it('bounds the filters and keywords an account may have', async () => {
    const made = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        call<Filter>('POST', '/api/v2/filters', 'capped', { title: `Filter ${i}`, context: ['home'] }),
      ),
    );
    expect(made.map((r) => r.status)).toEqual(made.map(() => 200));
    const over = await call('POST', '/api/v2/filters', 'capped', {
      title: 'One too many',
      context: ['home'],
    });
    expect(over).toEqual({
      status: 422,
      body: { error: 'Validation failed: You have too many filters (maximum is 100)' },
    });
    const v1 = await call('POST', '/api/v1/filters', 'capped', { phrase: 'One too many', context: ['home'] });
    expect(v1.status).toBe(422);
    expect((await call<Filter[]>('GET', '/api/v2/filters', 'capped')).body).toHaveLength(100);

    // 1,000 keywords in all: five filters of 200 fill them.
    for (const { body } of made.slice(0, 5)) {
      const full = await call<Filter>('PUT', `/api/v2/filters/${body.id}`, 'capped', {
        keywords_attributes: Array.from({ length: 200 }, (_, k) => ({ keyword: `word ${body.id} ${k}` })),
      });
      expect(full.body.keywords).toHaveLength(200);
    }
    const before = await storedRules();
    const tooMany = 'Validation failed: You have too many filter keywords (maximum is 1000 in all)';
    const sixth = made[5].body.id;
    expect(await call('POST', `/api/v2/filters/${sixth}/keywords`, 'capped', { keyword: 'more' })).toEqual({
      status: 422,
      body: { error: tooMany },
    });
    expect(
      await call('PUT', `/api/v2/filters/${sixth}`, 'capped', { keywords_attributes: [{ keyword: 'more' }] }),
    ).toEqual({ status: 422, body: { error: tooMany } });
    expect(await storedRules()).toEqual(before);
    // Swapping one keyword for another in the same request stays within the bound.
    const first = (await call<Filter>('GET', `/api/v2/filters/${made[0].body.id}`, 'capped')).body;
    const swapped = await call<Filter>('PUT', `/api/v2/filters/${first.id}`, 'capped', {
      keywords_attributes: [{ id: first.keywords[0].id, _destroy: true }, { keyword: 'swapped in' }],
    });
    expect(swapped.status).toBe(200);
    expect(swapped.body.keywords.map((k) => k.keyword)).toContain('swapped in');
  });
});
