import sharp from 'sharp';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type Status = {
  id: string;
  content: string;
  spoiler_text: string;
  sensitive: boolean;
  language: string | null;
  visibility: string;
  edited_at: string | null;
  created_at: string;
  media_attachments: { id: string; description: string | null }[];
  mentions: { username: string }[];
  tags: { name: string }[];
};
type Edit = Pick<Status, 'content' | 'spoiler_text' | 'sensitive' | 'created_at' | 'media_attachments'> & {
  account: { username: string };
};

/** Editing statuses as Mastodon 4.3 does (PUT, history, source), over real HTTP against a tenant. */
describe('Status edits (real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;
  let base: string;
  let author: string;
  let reader: string;

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
    ]);
    base = bed.base.alpha;
    await bed.account('alpha', 'writer');
    await bed.account('alpha', 'reader');
    author = await bed.token('alpha', 'writer');
    reader = await bed.token('alpha', 'reader');
  });

  afterAll(async () => {
    await bed?.close();
  });

  const call = <T = unknown>(
    method: string,
    path: string,
    token: string | null,
    body?: Record<string, unknown> | URLSearchParams | FormData,
  ) => callApi<T>(base, method, path, token, body);

  const post = async (body: Record<string, unknown>) => {
    const res = await call<Status>('POST', '/api/v1/statuses', author, body);
    expect(res.status).toBe(200);
    return res.body;
  };

  async function image(): Promise<string> {
    const form = new FormData();
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
      .png()
      .toBuffer();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'a.png');
    const res = await fetch(`${base}/api/v2/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${author}` },
      body: form,
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { id: string }).id;
  }

  it('changes text, content warning and language; keeps the original and every version in the history', async () => {
    const original = await post({ status: 'Office hours on Monday #service', language: 'en' });
    expect(original.edited_at).toBeNull();

    const first = await call<Status>('PUT', `/api/v1/statuses/${original.id}`, author, {
      status: 'Office hours on Tuesday #opening',
      spoiler_text: 'Schedule change',
      language: 'de',
      visibility: 'direct',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      id: original.id,
      content: expect.stringContaining('Office hours on Tuesday'),
      spoiler_text: 'Schedule change',
      sensitive: true,
      language: 'de',
      // Visibility never changes with an edit.
      visibility: 'public',
      edited_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      tags: [{ name: 'opening' }],
    });
    await call('PUT', `/api/v1/statuses/${original.id}`, author, { status: 'Office hours on Wednesday' });

    const history = await call<Edit[]>('GET', `/api/v1/statuses/${original.id}/history`, null);
    expect(history.status).toBe(200);
    expect(history.body.map((e) => e.content)).toEqual([
      expect.stringContaining('Monday'),
      expect.stringContaining('Tuesday'),
      expect.stringContaining('Wednesday'),
    ]);
    expect(history.body[0]).toMatchObject({
      created_at: original.created_at,
      spoiler_text: '',
      sensitive: false,
      account: { username: 'writer' },
    });
    expect(history.body[1]).toMatchObject({ spoiler_text: 'Schedule change', sensitive: true });

    const source = await call('GET', `/api/v1/statuses/${original.id}/source`, reader);
    expect(source.body).toEqual({
      id: original.id,
      text: 'Office hours on Wednesday',
      spoiler_text: 'Schedule change',
    });
    const read = await call<Status>('GET', `/api/v1/statuses/${original.id}`, null);
    expect(read.body.content).toContain('Wednesday');
  });

  it('records nothing when nothing changes, and answers the history of an unedited status with itself', async () => {
    const status = await post({ status: 'Unchanged' });
    const same = await call<Status>('PUT', `/api/v1/statuses/${status.id}`, author, { status: 'Unchanged' });
    expect(same.status).toBe(200);
    expect(same.body.edited_at).toBeNull();
    const history = await call<Edit[]>('GET', `/api/v1/statuses/${status.id}/history`, null);
    expect(history.body).toHaveLength(1);
    expect(history.body[0].content).toContain('Unchanged');
  });

  it("refuses someone else's status (404), a read-only token (403), and bad input, changing nothing", async () => {
    const status = await post({ status: 'Stays as it is' });
    expect((await call('PUT', `/api/v1/statuses/${status.id}`, reader, { status: 'Hijacked' })).status).toBe(
      404,
    );
    const readOnly = await bed.token('alpha', 'writer', 'read');
    expect((await call('PUT', `/api/v1/statuses/${status.id}`, readOnly, { status: 'Nope' })).status).toBe(
      403,
    );
    const tooLong = await call<{ error: string }>('PUT', `/api/v1/statuses/${status.id}`, author, {
      status: 'x'.repeat(501),
    });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.error).toMatch(/character limit of 500/);
    const blank = await call<{ error: string }>('PUT', `/api/v1/statuses/${status.id}`, author, {
      status: '  ',
    });
    expect(blank.status).toBe(422);
    const badFocus = await call('PUT', `/api/v1/statuses/${status.id}`, author, {
      status: 'With a bad focus',
      media_ids: [await image()],
      media_attributes: [{ id: 'abc' }],
    });
    expect(badFocus.status).toBe(400);
    expect((await call('PUT', '/api/v1/statuses/99999999999', author, { status: 'Ghost' })).status).toBe(404);

    const after = await call<Status>('GET', `/api/v1/statuses/${status.id}`, null);
    expect(after.body).toMatchObject({ content: expect.stringContaining('Stays as it is'), edited_at: null });
    expect((await call<Edit[]>('GET', `/api/v1/statuses/${status.id}/history`, null)).body).toHaveLength(1);
  });

  it('replaces media and their descriptions (a form body with media_attributes[][…]); the history keeps the old ones', async () => {
    const [a, b] = [await image(), await image()];
    const status = await post({ status: 'Pictures', media_ids: [a] });
    const form = new URLSearchParams();
    form.append('status', 'Pictures, described');
    form.append('media_ids[]', b);
    form.append('media_ids[]', a);
    form.append('media_attributes[][id]', a);
    form.append('media_attributes[][description]', 'The town hall at dawn');
    form.append('media_attributes[][id]', b);
    form.append('media_attributes[][description]', 'The square');
    const edited = await call<Status>('PUT', `/api/v1/statuses/${status.id}`, author, form);
    expect(edited.status).toBe(200);
    expect(edited.body.media_attachments).toEqual([
      expect.objectContaining({ id: b, description: 'The square' }),
      expect.objectContaining({ id: a, description: 'The town hall at dawn' }),
    ]);
    const history = await call<Edit[]>('GET', `/api/v1/statuses/${status.id}/history`, null);
    expect(history.body.map((e) => e.media_attachments.map((m) => [m.id, m.description]))).toEqual([
      [[a, null]],
      [
        [b, 'The square'],
        [a, 'The town hall at dawn'],
      ],
    ]);
    // An attachment dropped in an edit stays the status's, as in Mastodon: the history still shows it,
    // the sweep of unattached media leaves it, another status cannot take it, and an edit may add it back.
    await call('PUT', `/api/v1/statuses/${status.id}`, author, { status: 'One picture', media_ids: [a] });
    expect((await call('GET', `/api/v1/media/${b}`, author)).status).toBe(404);
    const other = await post({ status: 'Taking it', media_ids: [b] });
    expect(other.media_attachments).toEqual([]);
    const back = await call<Status>('PUT', `/api/v1/statuses/${status.id}`, author, {
      status: 'Both again',
      media_ids: [a, b],
    });
    expect(back.body.media_attachments.map((m) => m.id)).toEqual([a, b]);
  });

  it('notifies accounts mentioned for the first time, and local accounts that boosted the status', async () => {
    const status = await post({ status: 'Consultation opens today' });
    expect((await call('POST', `/api/v1/statuses/${status.id}/reblog`, reader)).status).toBe(200);
    await bed.account('alpha', 'mentioned_later');
    const mentioned = await bed.token('alpha', 'mentioned_later');
    await call('PUT', `/api/v1/statuses/${status.id}`, author, {
      status: 'Consultation opens today, @mentioned_later please share',
    });
    const forMentioned = await call<{ type: string; status: { id: string } }[]>(
      'GET',
      '/api/v1/notifications',
      mentioned,
    );
    expect(forMentioned.body.map((n) => [n.type, n.status.id])).toEqual([['mention', status.id]]);
    const forBooster = await call<{ type: string; status: { id: string } }[]>(
      'GET',
      '/api/v1/notifications?types[]=update',
      reader,
    );
    expect(forBooster.body.map((n) => [n.type, n.status.id])).toEqual([['update', status.id]]);
  });

  it('edits a poll as Mastodon does: votes kept while the options stay, reset when they change, removed with null', async () => {
    type Poll = {
      id: string;
      options: { title: string; votes_count: number }[];
      votes_count: number;
      expires_at: string;
    };
    type WithPoll = Status & { poll: Poll | null };
    // Some apps send `"poll": null` with every post: no poll, not an error.
    const plain = await post({ status: 'No poll here', poll: null });
    expect((plain as WithPoll).poll).toBeNull();
    const asked = (await post({
      status: 'Which day suits you?',
      poll: { options: ['Monday', 'Tuesday'], expires_in: 3600 },
    })) as WithPoll;
    const poll = asked.poll!;
    expect((await call('POST', `/api/v1/polls/${poll.id}/votes`, reader, { choices: ['1'] })).status).toBe(
      200,
    );
    const edit = (body: Record<string, unknown>) =>
      call<WithPoll>('PUT', `/api/v1/statuses/${asked.id}`, author, { status: asked.content, ...body });

    // The same options for longer: the vote stays, the end moves.
    const longer = await edit({
      status: 'Which day suits you best?',
      poll: { options: ['Monday', 'Tuesday'], expires_in: 7200 },
    });
    expect(longer.status).toBe(200);
    expect(longer.body.poll).toMatchObject({ id: poll.id, votes_count: 1 });
    expect(longer.body.poll!.options.map((o) => o.votes_count)).toEqual([0, 1]);
    expect(Date.parse(longer.body.poll!.expires_at)).toBeGreaterThan(Date.parse(poll.expires_at) + 3000_000);
    // Left out, the poll stays as it is.
    const untouched = await edit({ status: 'Which day suits you best, really?' });
    expect(untouched.body.poll).toMatchObject({ id: poll.id, votes_count: 1 });

    // Other options: the old votes no longer mean anything.
    const changed = await edit({
      poll: { options: ['Monday', 'Wednesday', 'Friday'], expires_in: 3600, multiple: true },
    });
    expect(changed.body.poll).toMatchObject({ votes_count: 0, multiple: true });
    expect(changed.body.poll!.options.map((o) => [o.title, o.votes_count])).toEqual([
      ['Monday', 0],
      ['Wednesday', 0],
      ['Friday', 0],
    ]);
    const readerView = await call<WithPoll>('GET', `/api/v1/statuses/${asked.id}`, reader);
    expect(readerView.body.poll).toMatchObject({ voted: false, own_votes: [] });

    // Bad polls and a poll beside media are refused, changing nothing.
    const media = await image();
    for (const body of [
      { poll: { options: ['Only one'], expires_in: 3600 } },
      { poll: { options: ['Monday', 'Tuesday'], expires_in: 3600 }, media_ids: [media] },
    ]) {
      const refused = await edit(body);
      expect(refused.status).toBe(422);
    }
    const after = await call<WithPoll>('GET', `/api/v1/statuses/${asked.id}`, author);
    expect(after.body.poll!.options.map((o) => o.title)).toEqual(['Monday', 'Wednesday', 'Friday']);
    expect(after.body.media_attachments).toEqual([]);

    // null removes it.
    const removed = await edit({ poll: null });
    expect(removed.status).toBe(200);
    expect(removed.body.poll).toBeNull();
    expect((await call('GET', `/api/v1/polls/${poll.id}`, reader)).status).toBe(404);

    // The history shows each version's options.
    const history = await call<(Edit & { poll: { options: { title: string }[] } | null })[]>(
      'GET',
      `/api/v1/statuses/${asked.id}/history`,
      reader,
    );
    expect(history.body.map((v) => v.poll?.options.map((o) => o.title) ?? null)).toEqual([
      ['Monday', 'Tuesday'],
      ['Monday', 'Tuesday'],
      ['Monday', 'Tuesday'],
      ['Monday', 'Wednesday', 'Friday'],
      null,
    ]);
  });

  it('keeps private statuses private: their history and source answer 404 to others', async () => {
    const status = await post({ status: 'Followers only', visibility: 'private' });
    expect((await call('GET', `/api/v1/statuses/${status.id}/history`, null)).status).toBe(404);
    expect((await call('GET', `/api/v1/statuses/${status.id}/history`, reader)).status).toBe(404);
    expect((await call('GET', `/api/v1/statuses/${status.id}/source`, reader)).status).toBe(404);
    expect((await call('GET', `/api/v1/statuses/${status.id}/history`, author)).status).toBe(200);
  });
});
