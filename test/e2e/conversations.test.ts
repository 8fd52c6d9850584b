import { createRestAPIClient } from 'masto';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type Conversation = {
  id: string;
  unread: boolean;
  accounts: { username: string }[];
  last_status: { id: string; content: string } | null;
};

/** Direct conversations as Mastodon 4.3 lists them, over real HTTP. */
describe('Conversations (real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;
  let base: string;
  const people: Record<string, { id: string; token: string }> = {};

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
    ]);
    base = bed.base.alpha;
    for (const name of ['clerk', 'citizen', 'colleague', 'bystander']) {
      const { id } = await bed.account('alpha', name);
      people[name] = { id, token: await bed.token('alpha', name) };
    }
  });

  afterAll(async () => {
    await bed?.close();
  });

  const call = <T = unknown>(method: string, path: string, who: string, body?: Record<string, unknown>) =>
    callApi<T>(base, method, path, people[who].token, body);
  const text = (html: string | undefined) => (html ?? '').replace(/<[^>]+>/g, '');

  it('lists direct conversations for every participant, newest first, unread until read', async () => {
    const first = await call<{ id: string }>('POST', '/api/v1/statuses', 'clerk', {
      status: '@citizen your application is complete',
      visibility: 'direct',
    });
    await call('POST', '/api/v1/statuses', 'clerk', {
      status: '@citizen @colleague handing over to my colleague',
      visibility: 'direct',
    });
    // A public mention is not a conversation.
    await call('POST', '/api/v1/statuses', 'clerk', { status: '@citizen thanks for visiting' });

    const client = createRestAPIClient({ url: base, accessToken: people.citizen.token });
    const mine = await client.v1.conversations.list();
    expect(
      mine.map((c) => [c.accounts.map((a) => a.username).sort(), c.unread, text(c.lastStatus?.content)]),
    ).toEqual([
      [['clerk', 'colleague'], true, '@citizen @colleague handing over to my colleague'],
      [['clerk'], true, '@citizen your application is complete'],
    ]);
    const clerks = await call<Conversation[]>('GET', '/api/v1/conversations', 'clerk');
    expect(clerks.body.map((c) => [c.accounts.map((a) => a.username).sort(), c.unread])).toEqual([
      [['citizen', 'colleague'], false],
      [['citizen'], false],
    ]);
    expect((await call<Conversation[]>('GET', '/api/v1/conversations', 'bystander')).body).toEqual([]);

    const read = await client.v1.conversations.$select(mine[1].id).read();
    expect(read).toMatchObject({ id: mine[1].id, unread: false });

    // A reply continues the same conversation and marks it unread for the others.
    await call('POST', '/api/v1/statuses', 'citizen', {
      status: '@clerk thank you!',
      visibility: 'direct',
      in_reply_to_id: first.body.id,
    });
    const clerksNow = await call<Conversation[]>('GET', '/api/v1/conversations', 'clerk');
    expect(clerksNow.body[0]).toMatchObject({
      unread: true,
      last_status: { content: expect.stringContaining('thank you!') },
    });
    expect(clerksNow.body).toHaveLength(2);
  });

  it("pages with the Link header, removes a conversation from one's list only, and 404s others' ids", async () => {
    for (let i = 0; i < 3; i++) {
      await call('POST', '/api/v1/statuses', 'colleague', {
        status: `@bystander note ${i}`,
        visibility: 'direct',
      });
    }
    const res = await fetch(`${base}/api/v1/conversations?limit=1`, {
      headers: { authorization: `Bearer ${people.bystander.token}` },
    });
    const page = (await res.json()) as Conversation[];
    expect(page).toHaveLength(1);
    expect(res.headers.get('link')).toMatch(/rel="next"/);

    expect((await call('DELETE', `/api/v1/conversations/${page[0].id}`, 'citizen')).status).toBe(404);
    expect((await call('POST', `/api/v1/conversations/${page[0].id}/read`, 'citizen')).status).toBe(404);
    expect((await call('DELETE', `/api/v1/conversations/${page[0].id}`, 'bystander')).status).toBe(200);
    const left = await call<Conversation[]>('GET', '/api/v1/conversations', 'bystander');
    expect(left.body.map((c) => c.id)).not.toContain(page[0].id);
    // The colleague still has it.
    expect(
      (await call<Conversation[]>('GET', '/api/v1/conversations', 'colleague')).body.length,
    ).toBeGreaterThan(0);
  });

  it('drops a conversation whose statuses were all deleted', async () => {
    const posted = await call<{ id: string }>('POST', '/api/v1/statuses', 'clerk', {
      status: '@bystander sent by mistake',
      visibility: 'direct',
    });
    const before = (await call<Conversation[]>('GET', '/api/v1/conversations', 'bystander')).body.length;
    await call('DELETE', `/api/v1/statuses/${posted.body.id}`, 'clerk');
    const after = (await call<Conversation[]>('GET', '/api/v1/conversations', 'bystander')).body;
    expect(after.length).toBe(before - 1);
    expect(after.map((c) => text(c.last_status?.content))).not.toContain('@bystander sent by mistake');
  });
});
