import sharp from 'sharp';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type Credential = {
  id: string;
  display_name: string;
  note: string;
  locked: boolean;
  bot: boolean;
  discoverable: boolean;
  avatar: string;
  avatar_static: string;
  header: string;
  fields: { name: string; value: string }[];
  followers_count: number;
  source: { privacy: string; sensitive: boolean; language: string | null; note: string; fields: unknown[] };
};

/** An agency's own profile and who may follow it, as Mastodon apps change them, over real HTTP. */
describe('Profile and follow requests (real HTTP, PostgreSQL, Redis and disk)', () => {
  let bed: ClientTestbed;
  let base: string;

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
    ]);
    base = bed.base.alpha;
  });

  afterAll(async () => {
    await bed?.close();
  });

  async function person(username: string, scopes?: string): Promise<{ id: string; token: string }> {
    const { id } = await bed.account('alpha', username);
    return { id, token: await bed.token('alpha', username, scopes) };
  }

  const call = <T = unknown>(
    method: string,
    path: string,
    token: string | null,
    body?: Record<string, unknown> | URLSearchParams | FormData,
  ) => callApi<T>(base, method, path, token, body);

  it('updates names, bio, fields and posting defaults from a form, as Mastodon apps send them', async () => {
    const me = await person('ministry');
    const form = new URLSearchParams({
      display_name: 'Ministry of Roads 🛣️',
      note: 'Official account.\nQuestions: https://roads.example/contact',
      bot: 'false',
      discoverable: '1',
      'fields_attributes[0][name]': 'Website',
      'fields_attributes[0][value]': 'https://roads.example',
      'fields_attributes[1][name]': '',
      'fields_attributes[1][value]': '',
      'fields_attributes[2][name]': 'Hotline',
      'fields_attributes[2][value]': '+49 30 1234',
      'source[privacy]': 'unlisted',
      'source[sensitive]': 'true',
      'source[language]': 'de',
    });
    const res = await call<Credential>('PATCH', '/api/v1/accounts/update_credentials', me.token, form);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      display_name: 'Ministry of Roads 🛣️',
      note: expect.stringContaining(
        'Official account.<br />Questions: <a href="https://roads.example/contact"',
      ),
      discoverable: true,
      fields: [
        { name: 'Website', value: expect.stringContaining('href="https://roads.example"') },
        { name: 'Hotline', value: '+49 30 1234' },
      ],
      source: {
        privacy: 'unlisted',
        sensitive: true,
        language: 'de',
        note: 'Official account.\nQuestions: https://roads.example/contact',
      },
    });
    // What others see.
    const seen = await fetch(`${base}/api/v1/accounts/${me.id}`);
    expect(await seen.json()).toMatchObject({ display_name: 'Ministry of Roads 🛣️' });
  });

  it('takes an avatar and a header, cropped to 400×400 and 1500×500 without metadata, and removes them again', async () => {
    const me = await person('pictures');
    const avatar = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#0a0' } })
      .jpeg()
      .withExif({ IFD0: { Artist: 'Photographer name' } })
      .toBuffer();
    const header = await sharp({ create: { width: 3000, height: 1200, channels: 3, background: '#00a' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('avatar', new Blob([new Uint8Array(avatar)], { type: 'image/jpeg' }), 'me.jpg');
    form.append('header', new Blob([new Uint8Array(header)], { type: 'image/png' }), 'banner.png');
    const res = await call<Credential>('PATCH', '/api/v1/accounts/update_credentials', me.token, form);
    expect(res.status).toBe(200);
    expect(res.body.avatar).toMatch(
      /^http:\/\/social\.alpha\.test:\d+\/system\/media\/\d+\/[0-9a-f]{32}\/original\.jpg$/,
    );
    expect(res.body.avatar_static).toBe(res.body.avatar);
    const servedAvatar = Buffer.from(await (await fetch(res.body.avatar)).arrayBuffer());
    expect(await sharp(servedAvatar).metadata()).toMatchObject({ width: 400, height: 400, format: 'jpeg' });
    expect(servedAvatar.includes(Buffer.from('Photographer name'))).toBe(false);
    const servedHeader = Buffer.from(await (await fetch(res.body.header)).arrayBuffer());
    expect(await sharp(servedHeader).metadata()).toMatchObject({ width: 1500, height: 500 });

    const removed = await call<Credential>('DELETE', '/api/v1/profile/avatar', me.token);
    expect(removed.body.avatar).toMatch(/\/avatars\/original\/missing\.png$/);
    expect(removed.body.header).toBe(res.body.header);
  });

  it('refuses bad input as a whole and changes nothing', async () => {
    const me = await person('careful');
    const before = (await call<Credential>('GET', '/api/v1/accounts/verify_credentials', me.token)).body;
    const attempts: [Record<string, unknown> | FormData, RegExp][] = [
      [{ display_name: 'x'.repeat(31), note: 'kept back' }, /Display name must be 1 to 30 characters/],
      [{ display_name: 'Bank\u202Elive', note: 'kept back' }, /bidirectional/],
      [{ note: 'n'.repeat(501) }, /Note is too long/],
      [
        {
          fields_attributes: [1, 2, 3, 4, 5].map((i) => ({ name: `F${i}`, value: 'v' })),
          display_name: 'kept back',
        },
        /maximum is 4 fields/,
      ],
      [{ source: { privacy: 'direct' }, display_name: 'kept back' }, /Default privacy/],
      [{ locked: 'maybe', display_name: 'kept back' }, /locked must be true or false/],
    ];
    const notAnImage = new FormData();
    notAnImage.append('avatar', new Blob(['<svg onload="alert(1)"/>'], { type: 'image/png' }), 'x.png');
    notAnImage.append('display_name', 'kept back');
    attempts.push([notAnImage, /Avatar content type is invalid/]);
    for (const [body, message] of attempts) {
      const res = await call<{ error: string }>(
        'PATCH',
        '/api/v1/accounts/update_credentials',
        me.token,
        body,
      );
      expect({ status: res.status, error: res.body.error }).toEqual({
        status: 422,
        error: expect.stringMatching(message),
      });
    }
    const after = (await call<Credential>('GET', '/api/v1/accounts/verify_credentials', me.token)).body;
    expect(after).toEqual(before);
  });

  it('needs write:accounts to change the profile', async () => {
    await person('reader_only');
    const readOnly = await bed.token('alpha', 'reader_only', 'read');
    const res = await call('PATCH', '/api/v1/accounts/update_credentials', readOnly, {
      display_name: 'Nope',
    });
    expect(res.status).toBe(403);
  });

  it('makes followers of a locked account ask; the owner authorises or rejects; unlocking accepts the rest', async () => {
    const agency = await person('locked_agency');
    expect(
      (await call<Credential>('PATCH', '/api/v1/accounts/update_credentials', agency.token, { locked: true }))
        .body.locked,
    ).toBe(true);
    const [a, b, c] = [await person('asker_a'), await person('asker_b'), await person('asker_c')];
    for (const p of [a, b, c]) {
      const followed = await call<{ following: boolean; requested: boolean }>(
        'POST',
        `/api/v1/accounts/${agency.id}/follow`,
        p.token,
      );
      expect(followed.body).toMatchObject({ following: false, requested: true });
    }
    const pending = await call<{ id: string }[]>('GET', '/api/v1/follow_requests', agency.token);
    expect(pending.body.map((x) => x.id).sort()).toEqual([a.id, b.id, c.id].sort());
    const notified = await call<{ type: string }[]>('GET', '/api/v1/notifications', agency.token);
    expect(notified.body.filter((n) => n.type === 'follow_request')).toHaveLength(3);

    const authorized = await call<{ followed_by: boolean; requested_by: boolean }>(
      'POST',
      `/api/v1/follow_requests/${a.id}/authorize`,
      agency.token,
    );
    expect(authorized.body).toMatchObject({ followed_by: true, requested_by: false });
    const rejected = await call<{ followed_by: boolean }>(
      'POST',
      `/api/v1/follow_requests/${b.id}/reject`,
      agency.token,
    );
    expect(rejected.body).toMatchObject({ followed_by: false });
    expect((await call('POST', `/api/v1/follow_requests/${b.id}/reject`, agency.token)).status).toBe(404);
    // Someone else cannot answer the agency's requests.
    expect((await call('POST', `/api/v1/follow_requests/${c.id}/authorize`, a.token)).status).toBe(404);

    const unlocked = await call<Credential>('PATCH', '/api/v1/accounts/update_credentials', agency.token, {
      locked: false,
    });
    expect(unlocked.body).toMatchObject({ locked: false, followers_count: 2 });
    const rel = await call<{ following: boolean }[]>(
      'GET',
      `/api/v1/accounts/relationships?id[]=${agency.id}`,
      c.token,
    );
    expect(rel.body[0]).toMatchObject({ following: true });
    const left = await call<{ type: string }[]>('GET', '/api/v1/notifications', agency.token);
    expect(left.body.filter((n) => n.type === 'follow_request')).toHaveLength(0);

    const removed = await call<{ followed_by: boolean }>(
      'POST',
      `/api/v1/accounts/${a.id}/remove_from_followers`,
      agency.token,
    );
    expect(removed.body).toMatchObject({ followed_by: false });
    const final = await call<Credential>('GET', '/api/v1/accounts/verify_credentials', agency.token);
    expect(final.body.followers_count).toBe(1);
  });
});
