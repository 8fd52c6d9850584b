import sharp from 'sharp';
import { filesBelow } from '../support/files';
import { ClientTestbed, startClientTestbed } from './client-support';

/** Mastodon's error answer: the status, JSON `{"error": …}` and nothing internal; returns the text. */
async function expectMastodonError(
  pending: Response | Promise<Response>,
  status: number,
  error?: RegExp,
): Promise<string> {
  const res = await pending;
  const body = (await res.json()) as { error?: unknown };
  expect({ status: res.status, type: res.headers.get('content-type'), error: typeof body.error }).toEqual({
    status,
    type: expect.stringMatching(/^application\/json/),
    error: 'string',
  });
  if (error) expect(body.error).toMatch(error);
  expect(JSON.stringify(body)).not.toMatch(/node_modules|at \w+ \(|SELECT|INSERT/);
  return body.error as string;
}

type Media = {
  id: string;
  type: string;
  url: string | null;
  preview_url: string | null;
  description: string | null;
  meta: {
    original?: { width: number; height: number; size: string; aspect: number };
    small?: { width: number; height: number };
    focus?: { x: number; y: number };
  };
};

/** A JPEG as phones write them: EXIF with the camera owner, a GPS position and an orientation. */
function photo(width: number, height: number, orientation = 1): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .jpeg()
    .withMetadata({ orientation })
    .withExifMerge({
      IFD0: { Artist: 'Jane Official', Copyright: 'Ministry' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '52/1 31/1 12/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '13/1 24/1 0/1',
      },
    })
    .toBuffer();
}

function png(width = 32, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: '#00336680' } })
    .png()
    .toBuffer();
}

/**
 * Media uploads as Mastodon apps send them (multipart, `file` + `description` + `focus`), over real HTTP
 * against a tenant: what is stored is what the bytes are, stripped of metadata; what is refused leaves
 * nothing behind; what is served is the tenant's own.
 */
describe('Media attachments (real HTTP, PostgreSQL, Redis and disk)', () => {
  let bed: ClientTestbed;
  let base: string;
  let token: string;
  let mediaRoot: string;

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
      { slug: 'beta', domain: 'social.beta.test', displayName: 'Beta', adminEmail: 'press@beta.example' },
    ]);
    base = bed.base.alpha;
    await bed.account('alpha', 'editor');
    token = await bed.token('alpha', 'editor');
    mediaRoot = bed.config.media.root;
  });

  afterAll(async () => {
    await bed?.close();
  });

  const auth = (t = token) => ({ authorization: `Bearer ${t}` });

  async function upload(
    file: Buffer,
    fields: Record<string, string> = {},
    opts: { version?: 1 | 2; token?: string; name?: string; type?: string } = {},
  ): Promise<Response> {
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(file)], { type: opts.type ?? 'image/jpeg' }),
      opts.name ?? 'photo.jpg',
    );
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return fetch(`${base}/api/v${opts.version ?? 2}/media`, {
      method: 'POST',
      headers: auth(opts.token),
      body: form,
    });
  }

  const storedFiles = (): string[] => filesBelow(mediaRoot);

  async function post(body: Record<string, unknown>, t = token): Promise<Response> {
    return fetch(`${base}/api/v1/statuses`, {
      method: 'POST',
      headers: { ...auth(t), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  it('stores an uploaded photo without its metadata, upright, with a preview, and serves it from the tenant domain', async () => {
    const original = await photo(400, 300, 6);
    expect(original.includes(Buffer.from('Jane Official'))).toBe(true);
    const res = await upload(original, {
      description: 'The minister at the press conference',
      focus: '0.5,-0.25',
    });
    expect(res.status).toBe(200);
    const media = (await res.json()) as Media;
    expect(media).toMatchObject({
      id: expect.stringMatching(/^\d+$/),
      type: 'image',
      description: 'The minister at the press conference',
      url: expect.stringMatching(
        /^http:\/\/social\.alpha\.test:\d+\/system\/media\/\d+\/[0-9a-f]{32}\/original\.jpg$/,
      ),
      preview_url: expect.stringMatching(/\/small\.jpg$/),
      // EXIF orientation 6 is a quarter turn: the stored image is 300 wide and 400 high.
      meta: {
        original: { width: 300, height: 400, size: '300x400', aspect: 0.75 },
        focus: { x: 0.5, y: -0.25 },
      },
    });

    const served = await fetch(media.url!);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const bytes = Buffer.from(await served.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 300, height: 400 });
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect(bytes.includes(Buffer.from('Jane Official'))).toBe(false);

    const preview = await fetch(media.preview_url!);
    expect(preview.status).toBe(200);
    expect((await sharp(Buffer.from(await preview.arrayBuffer())).metadata()).width).toBe(300);

    // The same path on another tenant's domain finds nothing: files are looked for below the Host's tenant.
    const elsewhere = new URL(media.url!);
    elsewhere.hostname = 'social.beta.test';
    expect((await fetch(elsewhere)).status).toBe(404);
    // And a guessed token finds nothing either.
    expect((await fetch(media.url!.replace(/\/[0-9a-f]{32}\//, `/${'0'.repeat(32)}/`))).status).toBe(404);
  });

  it('scales an image above 3840×2160 pixels down to that many, keeping its aspect', async () => {
    const res = await upload(await png(5000, 2500), {}, { type: 'image/png', name: 'big.png' });
    expect(res.status).toBe(200);
    const { meta, url } = (await res.json()) as Media;
    expect(meta.original!.width * meta.original!.height).toBeLessThanOrEqual(8_294_400);
    expect(meta.original!.width / meta.original!.height).toBeCloseTo(2, 2);
    expect(meta.small!.width * meta.small!.height).toBeLessThanOrEqual(230_400);
    expect(url).toMatch(/\/original\.png$/);
  });

  it('answers the same on version 1, and a GET shows the upload to its owner only', async () => {
    const res = await upload(await png(), {}, { version: 1, type: 'image/png', name: 'a.png' });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as Media;
    const mine = await fetch(`${base}/api/v1/media/${id}`, { headers: auth() });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as Media).id).toBe(id);
    await bed.account('alpha', 'someone_else');
    const other = await bed.token('alpha', 'someone_else');
    await expectMastodonError(await fetch(`${base}/api/v1/media/${id}`, { headers: auth(other) }), 404);
  });

  it.each([
    [
      'HTML sent as a PNG',
      Buffer.from('<html><script>alert(1)</script></html>'),
      'image/png',
      /content type is invalid/,
    ],
    [
      'a PNG signature followed by garbage',
      Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 7)]),
      'image/png',
      /not a valid image/,
    ],
    [
      'an MP4 signature followed by garbage',
      Buffer.concat([Buffer.from('0000001c66747970', 'hex'), Buffer.from('isom0000'), Buffer.alloc(64)]),
      'video/mp4',
      /not a valid video or audio file/,
    ],
    ['an empty file', Buffer.alloc(0), 'image/png', /can't be blank|content type is invalid/],
  ])('refuses %s with 422 and stores nothing', async (_label, bytes, type, message) => {
    const before = storedFiles().length;
    const res = await upload(bytes, {}, { type, name: 'upload.png' });
    await expectMastodonError(res, 422, message);
    expect(storedFiles().length).toBe(before);
  });

  it('refuses a form without a file, a too long description and a bad focus point', async () => {
    const noFile = new FormData();
    noFile.append('description', 'nothing attached');
    await expectMastodonError(
      await fetch(`${base}/api/v2/media`, { method: 'POST', headers: auth(), body: noFile }),
      422,
      /File can't be blank/,
    );
    await expectMastodonError(
      await upload(await png(), { description: 'x'.repeat(1501) }, { type: 'image/png' }),
      422,
      /Description is too long/,
    );
    for (const focus of ['2,0', 'a,b', '0.5', '0.1,0.2,0.3']) {
      await expectMastodonError(await upload(await png(), { focus }, { type: 'image/png' }), 422, /Focus/);
    }
  });

  it('needs the write:media scope', async () => {
    const readOnly = await bed.token('alpha', 'editor', 'read');
    await expectMastodonError(await upload(await png(), {}, { token: readOnly, type: 'image/png' }), 403);
    const anonymous = new FormData();
    anonymous.append('file', new Blob([new Uint8Array(await png())], { type: 'image/png' }), 'a.png');
    await expectMastodonError(await fetch(`${base}/api/v2/media`, { method: 'POST', body: anonymous }), 401);
  });

  it('updates description and focus until posted, attaches media in the order given, then hides them from GET and PUT', async () => {
    const first = (await (await upload(await png(), {}, { type: 'image/png' })).json()) as Media;
    const second = (await (await upload(await photo(64, 48))).json()) as Media;
    const updated = await fetch(`${base}/api/v1/media/${first.id}`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'Flag of the agency', focus: '0,0.5' }),
    });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({
      description: 'Flag of the agency',
      meta: { focus: { x: 0, y: 0.5 } },
    });

    const res = await post({ status: 'Two pictures', media_ids: [second.id, first.id] });
    expect(res.status).toBe(200);
    const status = (await res.json()) as { id: string; media_attachments: Media[] };
    expect(status.media_attachments.map((a) => a.id)).toEqual([second.id, first.id]);
    expect(status.media_attachments[1]).toMatchObject({ type: 'image', description: 'Flag of the agency' });
    const read = (await (await fetch(`${base}/api/v1/statuses/${status.id}`)).json()) as typeof status;
    expect(read.media_attachments.map((a) => a.id)).toEqual([second.id, first.id]);

    await expectMastodonError(await fetch(`${base}/api/v1/media/${first.id}`, { headers: auth() }), 404);
    const late = await fetch(`${base}/api/v1/media/${first.id}`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'changed after posting' }),
    });
    await expectMastodonError(late, 404);
    // An attachment belongs to one status: posting it again attaches nothing.
    await expectMastodonError(await post({ media_ids: [first.id] }), 422, /Text can't be blank/);
  });

  it("leaves out media that are not the poster's, and refuses more than four", async () => {
    await bed.account('alpha', 'uploader');
    const theirs = (await (
      await upload(await png(), {}, { token: await bed.token('alpha', 'uploader'), type: 'image/png' })
    ).json()) as Media;
    const res = await post({ status: 'Not my picture', media_ids: [theirs.id] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { media_attachments: unknown[] }).media_attachments).toEqual([]);

    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(((await (await upload(await png(), {}, { type: 'image/png' })).json()) as Media).id);
    const statusesBefore = (
      (await (await fetch(`${base}/api/v1/accounts/verify_credentials`, { headers: auth() })).json()) as {
        statuses_count: number;
      }
    ).statuses_count;
    await expectMastodonError(
      await post({ status: 'Five', media_ids: ids }),
      422,
      /Cannot attach more than 4 files/,
    );
    const after = (
      (await (await fetch(`${base}/api/v1/accounts/verify_credentials`, { headers: auth() })).json()) as {
        statuses_count: number;
      }
    ).statuses_count;
    expect(after).toBe(statusesBefore);
    // Nothing was attached: the first four can still be posted.
    const ok = await post({ status: 'Four', media_ids: ids.slice(0, 4) });
    expect(((await ok.json()) as { media_attachments: unknown[] }).media_attachments).toHaveLength(4);
  });

  it('serves media files outside the API rate limit, as Mastodon serves them from storage', async () => {
    const media = (await (await upload(await png(), {}, { type: 'image/png' })).json()) as Media;
    const served = await fetch(media.url!);
    expect(served.status).toBe(200);
    expect(served.headers.get('x-ratelimit-limit')).toBeNull();
    const api = await fetch(`${base}/api/v1/instance`);
    expect(api.headers.get('x-ratelimit-limit')).not.toBeNull();
  });

  it('announces the types it accepts in the instance entity', async () => {
    const instance = (await (await fetch(`${base}/api/v2/instance`)).json()) as {
      configuration: {
        media_attachments: {
          supported_mime_types: string[];
          image_size_limit: number;
          description_limit: number;
        };
      };
    };
    // Video and audio types follow when ffmpeg is there (test/e2e/media-processing.test.ts).
    expect(instance.configuration.media_attachments.supported_mime_types.slice(0, 5)).toEqual([
      'image/jpeg',
      'image/png',
      'image/gif',
      'image/webp',
      'image/avif',
    ]);
    expect(instance.configuration.media_attachments).toMatchObject({
      image_size_limit: 16_777_216,
      description_limit: 1500,
    });
  });
});
