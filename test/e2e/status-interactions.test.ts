import { createRestAPIClient } from 'masto';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type Status = { id: string; pinned?: boolean; muted?: boolean };
type Account = { id: string; username: string };

/**
 * Pins, conversation mutes, who boosted and favourited, and the OAuth server metadata, as Mastodon 4.3
 * answers them, over real HTTP.
 */
describe('Pins, conversation mutes, reblogged_by and favourited_by (real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;
  let base: string;
  const people: Record<string, { id: string; token: string }> = {};

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
    ]);
    base = bed.base.alpha;
    for (const name of ['agency', 'fan_a', 'fan_b', 'fan_c', 'grumpy']) {
      const { id } = await bed.account('alpha', name);
      people[name] = { id, token: await bed.token('alpha', name) };
    }
  });

  afterAll(async () => {
    await bed?.close();
  });

  const call = <T = unknown>(
    method: string,
    path: string,
    who: string | null,
    body?: Record<string, unknown>,
  ) => callApi<T>(base, method, path, who ? people[who].token : null, body);

  const post = async (who: string, body: Record<string, unknown>) =>
    (await call<Status>('POST', '/api/v1/statuses', who, body)).body;

  it('pins up to five own statuses, shows them on the profile, and refuses the rest', async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await post('agency', { status: `Pinned candidate ${i}` }));
    for (const s of statuses.slice(0, 5)) {
      const pinned = await call<Status>('POST', `/api/v1/statuses/${s.id}/pin`, 'agency');
      expect(pinned).toMatchObject({ status: 200, body: { id: s.id, pinned: true } });
    }
    const sixth = await call<{ error: string }>('POST', `/api/v1/statuses/${statuses[5].id}/pin`, 'agency');
    expect(sixth).toMatchObject({ status: 422, body: { error: expect.stringMatching(/maximum number/) } });
    const direct = await post('agency', { status: 'Just for @fan_a', visibility: 'direct' });
    expect((await call('POST', `/api/v1/statuses/${direct.id}/pin`, 'agency')).status).toBe(422);
    const others = await call('POST', `/api/v1/statuses/${statuses[5].id}/pin`, 'fan_a');
    expect(others.status).toBe(422);

    const profile = await call<Status[]>(
      'GET',
      `/api/v1/accounts/${people.agency.id}/statuses?pinned=true`,
      null,
    );
    expect(profile.body.map((s) => s.id).sort()).toEqual(
      statuses
        .slice(0, 5)
        .map((s) => s.id)
        .sort(),
    );
    expect(
      (await call<Status>('POST', `/api/v1/statuses/${statuses[0].id}/unpin`, 'agency')).body.pinned,
    ).toBe(false);
    expect((await call('POST', `/api/v1/statuses/${statuses[5].id}/pin`, 'agency')).status).toBe(200);
  });

  it('mutes a conversation: no more notifications from it until unmuted', async () => {
    const thread = await post('agency', { status: 'Consultation thread' });
    const muted = await call<Status>('POST', `/api/v1/statuses/${thread.id}/mute`, 'agency');
    expect(muted.body.muted).toBe(true);
    await post('fan_b', { status: '@agency a question', in_reply_to_id: thread.id });
    const notifications = await call<{ type: string; status?: { id: string } }[]>(
      'GET',
      '/api/v1/notifications?types[]=mention',
      'agency',
    );
    expect(notifications.body.filter((n) => n.type === 'mention')).toEqual([]);
    const unmuted = await call<Status>('POST', `/api/v1/statuses/${thread.id}/unmute`, 'agency');
    expect(unmuted.body.muted).toBe(false);
    await post('fan_b', { status: '@agency another question', in_reply_to_id: thread.id });
    const after = await call<{ type: string }[]>('GET', '/api/v1/notifications?types[]=mention', 'agency');
    expect(after.body).toHaveLength(1);
  });

  it('lists who boosted and favourited, newest first, paged by the Link header, without blocked accounts', async () => {
    const status = await post('agency', { status: 'Please share' });
    for (const fan of ['fan_a', 'fan_b', 'fan_c', 'grumpy']) {
      await call('POST', `/api/v1/statuses/${status.id}/reblog`, fan);
      await call('POST', `/api/v1/statuses/${status.id}/favourite`, fan);
    }
    await call('POST', `/api/v1/accounts/${people.grumpy.id}/block`, 'agency');

    const client = createRestAPIClient({ url: base, accessToken: people.agency.token });
    const listed = await client.v1.statuses.$select(status.id).rebloggedBy.list();
    expect(listed.map((a) => a.username)).toEqual(['fan_c', 'fan_b', 'fan_a']);
    // Two at a time, following rel="next" as apps do.
    const seen: string[] = [];
    for (let url: string | undefined = `${base}/api/v1/statuses/${status.id}/reblogged_by?limit=2`; url;) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${people.agency.token}` } });
      const page = (await res.json()) as Account[];
      seen.push(...page.map((a) => a.username));
      url = page.length === 0 ? undefined : /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
      if (seen.length > 10) break;
    }
    expect(seen).toEqual(['fan_c', 'fan_b', 'fan_a']);
    const favourited = await call<Account[]>('GET', `/api/v1/statuses/${status.id}/favourited_by`, 'agency');
    expect(favourited.body.map((a) => a.username)).toEqual(['fan_c', 'fan_b', 'fan_a']);
    // Someone who blocks nobody sees all four who favourited.
    const anonymous = await call<Account[]>('GET', `/api/v1/statuses/${status.id}/favourited_by`, null);
    expect(anonymous.body.map((a) => a.username)).toEqual(['grumpy', 'fan_c', 'fan_b', 'fan_a']);

    const hidden = await post('agency', { status: 'Followers only', visibility: 'private' });
    expect((await call('GET', `/api/v1/statuses/${hidden.id}/reblogged_by`, 'fan_a')).status).toBe(404);
    expect((await call('GET', '/api/v1/statuses/abc/favourited_by', null)).status).toBe(404);
  });

  it('publishes OAuth authorization server metadata for apps to find the endpoints', async () => {
    const res = await fetch(`${base}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.json()).toMatchObject({
      issuer: `${base}/`,
      authorization_endpoint: `${base}/oauth/authorize`,
      token_endpoint: `${base}/oauth/token`,
      revocation_endpoint: `${base}/oauth/revoke`,
      app_registration_endpoint: `${base}/api/v1/apps`,
      scopes_supported: expect.arrayContaining(['read', 'write:statuses', 'follow', 'push']),
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
    });
  });
});
