import { createRestAPIClient } from 'masto';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type List = { id: string; title: string; replies_policy: string; exclusive: boolean };
type Status = { id: string; content: string; reblog: Status | null };

/** Lists and list timelines as Mastodon 4.3 keeps them, over real HTTP (masto.js and raw calls). */
describe('Lists (real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;
  let base: string;
  const people: Record<string, { id: string; token: string }> = {};

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
    ]);
    base = bed.base.alpha;
    for (const name of ['reader', 'ministry', 'agency', 'newsdesk', 'stranger', 'other_reader']) {
      const { id } = await bed.account('alpha', name);
      people[name] = { id, token: await bed.token('alpha', name) };
    }
    for (const followed of ['ministry', 'agency', 'newsdesk']) {
      await callApi(base, 'POST', `/api/v1/accounts/${people[followed].id}/follow`, people.reader.token);
    }
  });

  afterAll(async () => {
    await bed?.close();
  });

  const call = <T = unknown>(method: string, path: string, who: string, body?: Record<string, unknown>) =>
    callApi<T>(base, method, path, people[who].token, body);
  const post = async (who: string, body: Record<string, unknown>) =>
    (await call<Status>('POST', '/api/v1/statuses', who, body)).body;
  const timeline = async (who: string, path: string) =>
    (await call<Status[]>('GET', path, who)).body.map((s) => (s.reblog ?? s).content.replace(/<[^>]+>/g, ''));

  it('creates, renames and deletes lists (masto.js), and keeps them to their owner', async () => {
    const client = createRestAPIClient({ url: base, accessToken: people.reader.token });
    const list = await client.v1.lists.create({ title: 'Ministries' });
    expect(list).toMatchObject({ title: 'Ministries', repliesPolicy: 'list', exclusive: false });
    const renamed = await client.v1.lists.$select(list.id).update({ title: 'Federal ministries' });
    expect(renamed.title).toBe('Federal ministries');
    expect((await client.v1.lists.list()).map((l) => l.title)).toContain('Federal ministries');

    expect((await call('GET', `/api/v1/lists/${list.id}`, 'other_reader')).status).toBe(404);
    expect(
      (await call('PUT', `/api/v1/lists/${list.id}`, 'other_reader', { title: 'Mine now' })).status,
    ).toBe(404);
    expect((await call('DELETE', `/api/v1/lists/${list.id}`, 'other_reader')).status).toBe(404);

    await client.v1.lists.$select(list.id).remove();
    expect((await call('GET', `/api/v1/lists/${list.id}`, 'reader')).status).toBe(404);
  });

  it('refuses a blank title, an unknown replies policy and a list of someone not followed, writing nothing', async () => {
    const before = (await call<List[]>('GET', '/api/v1/lists', 'reader')).body.length;
    const blank = await call<{ error: string }>('POST', '/api/v1/lists', 'reader', { title: '  ' });
    expect(blank).toMatchObject({
      status: 422,
      body: { error: expect.stringMatching(/Title can't be blank/) },
    });
    expect(
      (await call('POST', '/api/v1/lists', 'reader', { title: 'X', replies_policy: 'all' })).status,
    ).toBe(400);
    expect((await call<List[]>('GET', '/api/v1/lists', 'reader')).body.length).toBe(before);

    const list = (await call<List>('POST', '/api/v1/lists', 'reader', { title: 'Strict' })).body;
    const notFollowed = await call<{ error: string }>('POST', `/api/v1/lists/${list.id}/accounts`, 'reader', {
      account_ids: [people.ministry.id, people.stranger.id],
    });
    expect(notFollowed).toMatchObject({ status: 422, body: { error: expect.stringMatching(/must follow/) } });
    const members = await call<unknown[]>('GET', `/api/v1/lists/${list.id}/accounts?limit=0`, 'reader');
    expect(members.body).toEqual([]);
    const unknown = await call('POST', `/api/v1/lists/${list.id}/accounts`, 'reader', {
      account_ids: ['99999999999'],
    });
    expect(unknown.status).toBe(404);
  });

  it('reads a list timeline of its members, with replies as its policy says, and exclusive lists leave home', async () => {
    const list = (
      await call<List>('POST', '/api/v1/lists', 'reader', {
        title: 'Government',
        replies_policy: 'list',
        exclusive: true,
      })
    ).body;
    const added = await call('POST', `/api/v1/lists/${list.id}/accounts`, 'reader', {
      account_ids: [people.ministry.id, people.agency.id],
    });
    expect(added.status).toBe(200);
    const holding = await call<List[]>('GET', `/api/v1/accounts/${people.ministry.id}/lists`, 'reader');
    expect(holding.body.map((l) => l.id)).toEqual([list.id]);

    const fromMinistry = await post('ministry', { status: 'Ministry announcement' });
    await post('agency', { status: '@ministry agency reply to a member', in_reply_to_id: fromMinistry.id });
    const fromPress = await post('newsdesk', { status: 'Press question' });
    await post('ministry', {
      status: '@newsdesk ministry reply to a non-member',
      in_reply_to_id: fromPress.id,
    });
    await call('POST', `/api/v1/statuses/${fromPress.id}/reblog`, 'agency');
    await post('ministry', { status: 'Direct note @reader', visibility: 'direct' });

    expect(await timeline('reader', `/api/v1/timelines/list/${list.id}`)).toEqual([
      'Press question',
      '@ministry agency reply to a member',
      'Ministry announcement',
    ]);
    await call('PUT', `/api/v1/lists/${list.id}`, 'reader', { replies_policy: 'followed' });
    expect(await timeline('reader', `/api/v1/timelines/list/${list.id}`)).toContain(
      '@newsdesk ministry reply to a non-member',
    );
    await call('PUT', `/api/v1/lists/${list.id}`, 'reader', { replies_policy: 'none' });
    expect(await timeline('reader', `/api/v1/timelines/list/${list.id}`)).toEqual([
      'Press question',
      'Ministry announcement',
    ]);

    // Exclusive: the members' posts are not in home; the press's own post still is.
    const home = await timeline('reader', '/api/v1/timelines/home');
    expect(home).toContain('Press question');
    expect(home).not.toContain('Ministry announcement');
    await call('PUT', `/api/v1/lists/${list.id}`, 'reader', { exclusive: false });
    expect(await timeline('reader', '/api/v1/timelines/home')).toContain('Ministry announcement');

    // Removing a member takes their posts out of the list; another user cannot read the list.
    const removed = await callApi(
      base,
      'DELETE',
      `/api/v1/lists/${list.id}/accounts?account_ids[]=${people.ministry.id}`,
      people.reader.token,
    );
    expect(removed.status).toBe(200);
    expect(await timeline('reader', `/api/v1/timelines/list/${list.id}`)).not.toContain(
      'Ministry announcement',
    );
    expect((await call('GET', `/api/v1/timelines/list/${list.id}`, 'other_reader')).status).toBe(404);
  });
});
