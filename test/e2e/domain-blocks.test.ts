import { alphaTestbedForBlock } from './client-support';

type Status = { id: string; account: { acct: string } };

/**
 * A user's domain blocks (Mastodon's /api/v1/domain_blocks) over real HTTP: the domain's accounts leave
 * the user's timelines, threads, search and notifications, follows with them end, and unblocking brings
 * their statuses back. Remote accounts and their statuses are written as the federation gateway stores
 * them.
 */
describe('Domain blocks of a user (real HTTP, PostgreSQL and Redis)', () => {
  const alpha = alphaTestbedForBlock();
  const call = <T = unknown>(method: string, path: string, token: string, body?: Record<string, unknown>) =>
    alpha.call<T>(method, path, token, body);

  /** A remote account with one public status tagged #harbour; returns their ids. */
  async function remoteAccount(username: string, domain: string): Promise<{ id: string; statusId: string }> {
    const [{ id }] = (await alpha.ds.query(
      `INSERT INTO "${alpha.schema}".accounts (username, domain, display_name, uri, url)
       VALUES ($1, $2, $1, $3, $3) RETURNING id::text`,
      [username, domain, `https://${domain}/users/${username}`],
    )) as { id: string }[];
    const [{ id: statusId }] = (await alpha.ds.query(
      `INSERT INTO "${alpha.schema}".statuses (account_id, local, uri, url, text, content, search)
       VALUES ($1, false, $2, $2, 'News from the #harbour', '<p>News from the #harbour</p>',
               to_tsvector('simple', 'News from the harbour'))
       RETURNING id::text`,
      [id, `https://${domain}/users/${username}/statuses/${Date.now()}${username}`],
    )) as { id: string }[];
    await alpha.ds.query(
      `WITH t AS (INSERT INTO "${alpha.schema}".tags (name, display_name) VALUES ('harbour', 'harbour')
                  ON CONFLICT (lower(name)) DO UPDATE SET name = EXCLUDED.name RETURNING id)
       INSERT INTO "${alpha.schema}".status_tags (tag_id, status_id) SELECT id, $1 FROM t`,
      [statusId],
    );
    return { id, statusId };
  }

  it('hides a blocked domain everywhere the user reads, ends follows with it, and shows it again once unblocked', async () => {
    const me = await alpha.bed.account('alpha', 'harbour_master');
    const token = await alpha.bed.token('alpha', 'harbour_master');
    const sailor = await remoteAccount('sailor', 'port.example');
    const other = await remoteAccount('captain', 'elsewhere.example');
    // The user follows the sailor, who follows back; the sailor's status is in home; the sailor liked
    // something of the user's and replied to it.
    const mine = await call<Status>('POST', '/api/v1/statuses', token, { status: 'Opening hours #harbour' });
    await alpha.ds.query(
      `INSERT INTO "${alpha.schema}".account_relations (kind, account_id, target_account_id)
       VALUES (0, $1, $2), (0, $2, $1)`,
      [me.id, sailor.id],
    );
    await alpha.ds.query(`INSERT INTO "${alpha.schema}".home_feed (account_id, status_id) VALUES ($1, $2)`, [
      me.id,
      sailor.statusId,
    ]);
    const [{ id: replyId }] = (await alpha.ds.query(
      `INSERT INTO "${alpha.schema}".statuses (account_id, local, uri, text, content, in_reply_to_id, in_reply_to_account_id)
       VALUES ($1, false, 'https://port.example/users/sailor/statuses/reply', 'Thanks', '<p>Thanks</p>', $2, $3)
       RETURNING id::text`,
      [sailor.id, mine.body.id, me.id],
    )) as { id: string }[];
    await alpha.ds.query(
      `INSERT INTO "${alpha.schema}".notifications (account_id, from_account_id, type, status_id) VALUES ($1, $2, 'mention', $3)`,
      [me.id, sailor.id, sailor.statusId],
    );

    const reads = async () => ({
      home: (await call<Status[]>('GET', '/api/v1/timelines/home', token)).body.map((s) => s.id),
      public: (await call<Status[]>('GET', '/api/v1/timelines/public', token)).body.map((s) => s.id),
      tag: (await call<Status[]>('GET', '/api/v1/timelines/tag/harbour', token)).body.map((s) => s.id),
      thread: (
        await call<{ descendants: Status[] }>('GET', `/api/v1/statuses/${mine.body.id}/context`, token)
      ).body.descendants.map((s) => s.id),
      search: (
        await call<{ statuses: Status[] }>('GET', '/api/v2/search?q=harbour&type=statuses', token)
      ).body.statuses.map((s) => s.id),
      notifications: (
        await call<{ account: { id: string } }[]>('GET', '/api/v1/notifications', token)
      ).body.map((n) => n.account.id),
    });
    const before = await reads();
    expect(before.home).toContain(sailor.statusId);
    expect(before.public).toEqual(expect.arrayContaining([sailor.statusId, other.statusId]));
    expect(before.tag).toContain(sailor.statusId);
    expect(before.thread).toEqual([replyId]);
    expect(before.search).toContain(sailor.statusId);
    expect(before.notifications).toEqual([sailor.id]);

    // Written as people type it: upper case, a trailing dot.
    expect(await call('POST', '/api/v1/domain_blocks', token, { domain: 'Port.Example.' })).toMatchObject({
      status: 200,
      body: {},
    });
    expect((await call<string[]>('GET', '/api/v1/domain_blocks', token)).body).toEqual(['port.example']);
    const [relationship] = (
      await call<{ following: boolean; followed_by: boolean; domain_blocking: boolean }[]>(
        'GET',
        `/api/v1/accounts/relationships?id[]=${sailor.id}`,
        token,
      )
    ).body;
    expect(relationship).toMatchObject({ following: false, followed_by: false, domain_blocking: true });
    const after = await reads();
    for (const seen of [after.home, after.public, after.tag, after.search]) {
      expect(seen).not.toContain(sailor.statusId);
    }
    expect(after.thread).toEqual([]);
    expect(after.public).toContain(other.statusId); // another domain is untouched
    expect(after.notifications).toEqual([]);
    // Still there when asked for by id, as Mastodon shows it.
    expect((await call('GET', `/api/v1/statuses/${sailor.statusId}`, token)).status).toBe(200);
    // A second block of the same domain changes nothing.
    expect((await call('POST', '/api/v1/domain_blocks', token, { domain: 'port.example' })).status).toBe(200);
    expect((await call<string[]>('GET', '/api/v1/domain_blocks', token)).body).toEqual(['port.example']);

    // Unblocked (the domain in the query string, as some apps send it), the domain comes back.
    expect((await call('DELETE', '/api/v1/domain_blocks?domain=port.example', token)).status).toBe(200);
    expect((await call<string[]>('GET', '/api/v1/domain_blocks', token)).body).toEqual([]);
    const again = await reads();
    expect(again.public).toContain(sailor.statusId);
    expect(again.thread).toEqual([replyId]);
  });

  it('shows an account the user follows on a blocked domain, and raises its notifications', async () => {
    const me = await alpha.bed.account('alpha', 'ferry_office');
    const token = await alpha.bed.token('alpha', 'ferry_office');
    const pilot = await remoteAccount('pilot', 'river.example');
    expect((await call('POST', '/api/v1/domain_blocks', token, { domain: 'river.example' })).status).toBe(
      200,
    );
    const publicIds = async () =>
      (await call<Status[]>('GET', '/api/v1/timelines/public', token)).body.map((s) => s.id);
    expect(await publicIds()).not.toContain(pilot.statusId);
    await alpha.ds.query(
      `INSERT INTO "${alpha.schema}".account_relations (kind, account_id, target_account_id) VALUES (0, $1, $2)`,
      [me.id, pilot.id],
    );
    expect(await publicIds()).toContain(pilot.statusId);
  });

  it('refuses a blank or invalid domain and a token without the blocks scope, writing nothing', async () => {
    await alpha.bed.account('alpha', 'careful');
    const token = await alpha.bed.token('alpha', 'careful');
    for (const [body, message] of [
      [{}, "Validation failed: Domain can't be blank"],
      [{ domain: '  ' }, "Validation failed: Domain can't be blank"],
      [{ domain: 'not a domain' }, 'Validation failed: Domain is invalid'],
      [{ domain: 'https://port.example/' }, 'Validation failed: Domain is invalid'],
      [{ domain: '127.0.0.1' }, 'Validation failed: Domain is invalid'],
    ] as const) {
      const res = await call('POST', '/api/v1/domain_blocks', token, body);
      expect({ status: res.status, body: res.body }).toEqual({ status: 422, body: { error: message } });
    }
    expect((await call<string[]>('GET', '/api/v1/domain_blocks', token)).body).toEqual([]);
    const readOnly = await alpha.bed.token('alpha', 'careful', 'read');
    expect((await call('POST', '/api/v1/domain_blocks', readOnly, { domain: 'port.example' })).status).toBe(
      403,
    );
  });

  it('pages the list by the Link header, newest block first', async () => {
    await alpha.bed.account('alpha', 'many_blocks');
    const token = await alpha.bed.token('alpha', 'many_blocks');
    for (const domain of ['a.example', 'b.example', 'c.example']) {
      expect((await call('POST', '/api/v1/domain_blocks', token, { domain })).status).toBe(200);
    }
    const first = await call<string[]>('GET', '/api/v1/domain_blocks?limit=2', token);
    expect(first.body).toEqual(['c.example', 'b.example']);
    const next = /<([^>]+)>; rel="next"/.exec(String(first.headers.get('link')))?.[1];
    expect(next).toBeDefined();
    const rest = await call<string[]>('GET', new URL(next!).pathname + new URL(next!).search, token);
    expect(rest.body).toEqual(['a.example']);
  });
});
