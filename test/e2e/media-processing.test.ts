import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { decode, isBlurhashValid } from 'blurhash';
import sharp from 'sharp';
import { DataSource } from 'typeorm';
import { MEDIA_QUEUE, MediaSweeper, ScheduledWorkRunner } from '@townhall/social';
import { filesBelow } from '../support/files';
import { processEnv, ROOT } from '../support/processes';
import { waitFor } from '../support/wait';
import { ClientTestbed, startClientTestbed } from './client-support';

type Media = {
  id: string;
  type: string;
  url: string | null;
  preview_url: string | null;
  blurhash: string | null;
  meta: {
    original?: Record<string, number | string>;
    small?: { width: number; height: number; size: string; aspect: number };
    focus?: { x: number; y: number };
  };
};

const TENANTS = [
  { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
  { slug: 'beta', domain: 'social.beta.test', displayName: 'Beta', adminEmail: 'press@beta.example' },
];

/** Runs ffmpeg (argument list, no shell) to make a test file; returns its bytes. */
function ffmpeg(name: string, args: string[]): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'townhall-media-test-'));
  try {
    const out = join(dir, name);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args, out], { timeout: 60_000 });
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What ffprobe says of a file's format tags and streams. */
function probe(data: Buffer): {
  format: { tags?: Record<string, string>; duration: string };
  streams: { codec_name: string; codec_type: string; tags?: Record<string, string> }[];
} {
  const dir = mkdtempSync(join(tmpdir(), 'townhall-media-test-'));
  try {
    const file = join(dir, 'probe');
    writeFileSync(file, data);
    return JSON.parse(
      execFileSync(
        'ffprobe',
        ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
        {
          encoding: 'utf8',
        },
      ),
    ) as ReturnType<typeof probe>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Two seconds of a WebM video (VP8 and Opus) with a title and a GPS position, as phones tag them. */
const webm = () =>
  ffmpeg('clip.webm', [
    ...['-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440'],
    ...['-t', '2', '-c:v', 'libvpx', '-c:a', 'libopus'],
    ...['-metadata', 'title=Internal briefing', '-metadata', 'location=+52.5200+013.4050/'],
  ]);

/** One second of a WAV tone with a title. */
const wav = () =>
  ffmpeg('tone.wav', [
    ...['-f', 'lavfi', '-i', 'sine=frequency=660:duration=1'],
    ...['-metadata', 'title=Internal recording', '-metadata', 'artist=Jane Official'],
  ]);

function photo(): Promise<Buffer> {
  return sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 220, g: 20, b: 20 } } })
    .jpeg()
    .withExifMerge({
      IFD0: { Artist: 'Jane Official' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '52/1 31/1 12/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '13/1 24/1 0/1',
      },
    })
    .toBuffer();
}

/**
 * Media processing over real HTTP, PostgreSQL, Redis, disk and ffmpeg: blurhash and previews, video and
 * audio transcoded without their metadata through the media queue (202 until ready), uploads that
 * survive a lost job, the sweep of unattached media and stray files, and the storage quota.
 */
describe('Media processing (real HTTP, PostgreSQL, Redis, disk and ffmpeg)', () => {
  let bed: ClientTestbed;
  let base: string;
  let token: string;
  let db: DataSource;
  let queue: Queue;

  beforeAll(async () => {
    bed = await startClientTestbed(TENANTS);
    base = bed.base.alpha;
    await bed.account('alpha', 'editor');
    token = await bed.token('alpha', 'editor');
    db = bed.app.get(DataSource);
    queue = bed.app.get<Queue>(getQueueToken(MEDIA_QUEUE));
  });

  afterAll(async () => {
    await bed?.close();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  const schema = (slug = 'alpha') => bed.tenants[slug].schemaName;
  const tenantDir = (slug = 'alpha') => join(bed.config.media.root, bed.tenants[slug].id);

  async function upload(file: Buffer, name: string, fields: Record<string, string> = {}, version = 2) {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(file)]), name);
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${base}/api/v${version}/media`, { method: 'POST', headers: auth(), body: form });
    return { status: res.status, body: (await res.json()) as Media & { error?: string } };
  }

  const get = async (id: string) => {
    const res = await fetch(`${base}/api/v1/media/${id}`, { headers: auth() });
    return { status: res.status, body: (await res.json()) as Media };
  };

  const ready = (id: string) =>
    waitFor(
      async () => {
        const r = await get(id);
        return r.status === 200 ? r.body : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `media ${id} to be processed` },
    );

  const files = (dir = tenantDir()): string[] => filesBelow(dir);

  const rowCount = async (slug = 'alpha'): Promise<number> =>
    Number(
      (
        (await db.query(`SELECT count(*)::int AS n FROM ${schema(slug)}.media_attachments`)) as {
          n: number;
        }[]
      )[0].n,
    );

  const bytesOf = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());

  it('gives an image a decodable 4×4 blurhash of its colours and a preview, without its GPS position', async () => {
    const original = await photo();
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const { status, body } = await upload(original, 'photo.jpg', { focus: '-0.5,0.25' });
    expect(status).toBe(200);
    expect(isBlurhashValid(body.blurhash!)).toEqual({ result: true });
    expect(body.blurhash).toHaveLength(36); // 1 + 1 + 4 + 2 × 15 characters: four components each way
    const pixels = decode(body.blurhash!, 8, 8);
    expect(pixels[0]).toBeGreaterThan(150); // red
    expect(pixels[1]).toBeLessThan(90);
    expect(body.meta).toMatchObject({
      original: { width: 400, height: 300, size: '400x300', aspect: 400 / 300 },
      small: { size: `${body.meta.small!.width}x${body.meta.small!.height}` },
      focus: { x: -0.5, y: 0.25 },
    });
    const stored = await bytesOf(body.url!);
    const meta = await sharp(stored).metadata();
    expect(meta.exif).toBeUndefined();
    expect(stored.includes(Buffer.from('Jane Official'))).toBe(false);
    const preview = await sharp(await bytesOf(body.preview_url!)).metadata();
    expect(preview.width! * preview.height!).toBeLessThanOrEqual(230_400);
    // The focus point is kept.
    expect((await get(body.id)).body.meta.focus).toEqual({ x: -0.5, y: 0.25 });
  });

  it.each([
    ['HTML', Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>')],
    [
      'SVG with a script',
      Buffer.from(
        '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      ),
    ],
  ])('refuses %s named .png with 422, storing nothing', async (_label, bytes) => {
    const [rows, stored] = [await rowCount(), files().length];
    const { status, body } = await upload(bytes, 'innocent.png');
    expect(status).toBe(422);
    expect(body.error).toMatch(/content type is invalid/);
    expect([await rowCount(), files().length]).toEqual([rows, stored]);
  });

  it('refuses an image over 16 MB with 422, storing no row and no file', async () => {
    const big = Buffer.concat([await photo(), Buffer.alloc(16 * 1024 * 1024 + 1, 0x20)]);
    const [rows, stored] = [await rowCount(), files().length];
    const { status, body } = await upload(big, 'huge.jpg');
    expect(status).toBe(422);
    expect(body.error).toMatch(/less than 16 MB/);
    expect([await rowCount(), files().length]).toEqual([rows, stored]);
  });

  it('takes a video through the queue: 202 and url null, 206, refused in a post, then an H.264 MP4 without metadata with a still, duration and blurhash', async () => {
    const clip = webm();
    expect(probe(clip).format.tags).toMatchObject({ title: 'Internal briefing' });
    await queue.pause(true); // this process's worker takes nothing until resumed
    let id: string;
    try {
      const { status, body } = await upload(clip, 'clip.webm', { description: 'Briefing', focus: '0,0' });
      expect(status).toBe(202);
      expect(body).toMatchObject({ type: 'video', url: null, preview_url: null });
      id = body.id;
      expect((await get(id)).status).toBe(206);
      const post = await fetch(`${base}/api/v1/statuses`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ status: 'Too early', media_ids: [id] }),
      });
      expect(post.status).toBe(422);
      expect(((await post.json()) as { error: string }).error).toBe(
        'Validation failed: Cannot attach files that have not finished processing. Try again in a moment!',
      );
      const scheduled = await fetch(`${base}/api/v1/statuses`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({
          status: 'Later',
          media_ids: [id],
          scheduled_at: new Date(Date.now() + 3600_000).toISOString(),
        }),
      });
      expect(scheduled.status).toBe(422);
      expect(((await scheduled.json()) as { error: string }).error).toMatch(/not finished processing/);
    } finally {
      await queue.resume(true);
    }
    const media = await ready(id);
    expect(media).toMatchObject({
      type: 'video',
      url: expect.stringMatching(/\/original\.mp4$/),
      preview_url: expect.stringMatching(/\/small\.png$/),
      meta: {
        original: { width: 320, height: 240, frame_rate: '25/1' },
        small: { width: 320, height: 240, size: '320x240' },
        focus: { x: 0, y: 0 },
      },
    });
    expect(Number(media.meta.original!.duration)).toBeCloseTo(2, 0);
    expect(Number(media.meta.original!.bitrate)).toBeGreaterThan(0);
    expect(isBlurhashValid(media.blurhash!).result).toBe(true);
    const served = await fetch(media.url!);
    expect(served.headers.get('content-type')).toBe('video/mp4');
    const stored = probe(Buffer.from(await served.arrayBuffer()));
    expect(stored.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(JSON.stringify(stored)).not.toMatch(/Internal briefing|52\.52|"location"|"title"/);
    expect((await sharp(await bytesOf(media.preview_url!)).metadata()).format).toBe('png');
    // Players ask for byte ranges.
    const part = await fetch(media.url!, { headers: { range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    // The upload itself is gone once processed.
    expect(
      files()
        .filter((f) => f.includes(`/${id}/`))
        .map((f) => f.split('/').pop())
        .sort(),
    ).toEqual(['original.mp4', 'small.png']);
    const post = await fetch(`${base}/api/v1/statuses`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'Now', media_ids: [id] }),
    });
    expect(post.status).toBe(200);
  });

  it('takes audio as MP3 without its tags, with duration and a waveform preview; version 1 answers once done', async () => {
    const { status, body } = await upload(wav(), 'tone.wav', {}, 1);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      type: 'audio',
      url: expect.stringMatching(/\/original\.mp3$/),
      preview_url: expect.stringMatching(/\/small\.png$/),
    });
    expect(Number(body.meta.original!.duration)).toBeCloseTo(1, 0);
    expect(isBlurhashValid(body.blurhash!).result).toBe(true);
    const stored = await bytesOf(body.url!);
    const probed = probe(stored);
    expect(probed.streams.map((s) => s.codec_name)).toEqual(['mp3']);
    expect(stored.includes(Buffer.from('Jane Official'))).toBe(false);
    expect(stored.includes(Buffer.from('Internal recording'))).toBe(false);
  });

  it('turns an animated GIF into a looping video (gifv) before answering, and leaves a still GIF an image', async () => {
    const gif = ffmpeg('loop.gif', ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10', '-t', '1']);
    const { status, body } = await upload(gif, 'loop.gif');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      type: 'gifv',
      url: expect.stringMatching(/\/original\.mp4$/),
      preview_url: expect.stringMatching(/\/small\.png$/),
      meta: { original: { width: 64, height: 48 } },
    });
    expect(Number(body.meta.original!.duration)).toBeCloseTo(1, 0);
    expect(probe(await bytesOf(body.url!)).streams.map((s) => s.codec_name)).toEqual(['h264']);
    const still = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
      .gif()
      .toBuffer();
    expect((await upload(still, 'still.gif')).body).toMatchObject({
      type: 'image',
      url: expect.stringMatching(/\/original\.gif$/),
    });
  });

  it('refuses a video container ffmpeg cannot read, storing nothing', async () => {
    const fake = Buffer.concat([
      Buffer.from('0000001c66747970', 'hex'),
      Buffer.from('isom0000'),
      Buffer.alloc(64),
    ]);
    const [rows, stored] = [await rowCount(), files().length];
    const { status, body } = await upload(fake, 'clip.mp4');
    expect(status).toBe(422);
    expect(body.error).toMatch(/not a valid video or audio file/);
    expect([await rowCount(), files().length]).toEqual([rows, stored]);
  });

  it('processes an upload whose queue job was lost once its scheduled item falls due', async () => {
    await queue.pause(true);
    let id: string;
    try {
      const { status, body } = await upload(wav(), 'tone.wav');
      expect(status).toBe(202);
      id = body.id;
      // Redis loses the job (a flush, a failover): only the committed row, file and schedule remain.
      await waitFor(async () => (await queue.getJob(`${bed.tenants.alpha.id}:${id}`)) ?? null);
      await (await queue.getJob(`${bed.tenants.alpha.id}:${id}`))!.remove();
    } finally {
      await queue.resume(true);
    }
    expect((await get(id)).status).toBe(206);
    const [item] = (await db.query(
      `UPDATE platform.scheduled_work SET due_at = now() WHERE kind = 'media_processing' AND ref_id = $1
       RETURNING ref_id`,
      [id],
    )) as [unknown[], number];
    expect(item).toHaveLength(1);
    await bed.app.get(ScheduledWorkRunner).runDue();
    expect((await ready(id)).type).toBe('audio');
    const left = (await db.query(
      `SELECT 1 FROM platform.scheduled_work WHERE kind = 'media_processing' AND ref_id = $1`,
      [id],
    )) as unknown[];
    expect(left).toHaveLength(0);
  });

  it('gives an upload up a day after it was taken, and then answers 422 for it', async () => {
    await queue.pause(true);
    let id: string;
    try {
      id = (await upload(wav(), 'tone.wav')).body.id;
      const job = await waitFor(async () => (await queue.getJob(`${bed.tenants.alpha.id}:${id}`)) ?? null);
      await job.remove();
    } finally {
      await queue.resume(true);
    }
    await db.query(
      `UPDATE ${schema()}.media_attachments SET created_at = now() - interval '25 hours' WHERE id = $1`,
      [id],
    );
    await db.query(
      `UPDATE platform.scheduled_work SET due_at = now() WHERE kind = 'media_processing' AND ref_id = $1`,
      [id],
    );
    await bed.app.get(ScheduledWorkRunner).runDue();
    const res = await fetch(`${base}/api/v1/media/${id}`, { headers: auth() });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: 'Error processing thumbnail for uploaded media' });
    const post = await fetch(`${base}/api/v1/statuses`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'Failed media', media_ids: [id] }),
    });
    expect(post.status).toBe(422);
    const left = (await db.query(
      `SELECT 1 FROM platform.scheduled_work WHERE kind = 'media_processing' AND ref_id = $1`,
      [id],
    )) as unknown[];
    expect(left).toHaveLength(0);
  });

  it('removes media left unattached for a day with their files, and files no attachment names', async () => {
    const old = (await upload(await photo(), 'old.jpg')).body;
    const fresh = (await upload(await photo(), 'fresh.jpg')).body;
    const posted = (await upload(await photo(), 'posted.jpg')).body;
    const post = await fetch(`${base}/api/v1/statuses`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'With a picture', media_ids: [posted.id] }),
    });
    expect(post.status).toBe(200);
    await db.query(
      `UPDATE ${schema()}.media_attachments SET created_at = now() - interval '25 hours' WHERE id = ANY($1::bigint[])`,
      [[old.id, posted.id]],
    );
    // A stray folder, as a crash between the files and the row's commit leaves one, two hours old.
    const stray = join(tenantDir(), '123456789', 'ab'.repeat(16));
    mkdirSync(stray, { recursive: true });
    writeFileSync(join(stray, 'original.jpg'), await photo());
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const p of [stray, join(tenantDir(), '123456789')]) utimesSync(p, twoHoursAgo, twoHoursAgo);

    const swept = await bed.app.get(MediaSweeper).sweep();
    expect(swept!.unattached).toBeGreaterThanOrEqual(1);
    expect(swept!.orphans).toBeGreaterThanOrEqual(1);
    const ids = (
      (await db.query(`SELECT id::text FROM ${schema()}.media_attachments`)) as { id: string }[]
    ).map((r) => r.id);
    expect(ids).not.toContain(old.id);
    expect(ids).toEqual(expect.arrayContaining([fresh.id, posted.id]));
    expect((await fetch(old.url!)).status).toBe(404);
    expect(files().some((f) => f.includes(`/${old.id}/`))).toBe(false);
    expect(files().some((f) => f.includes('/123456789/'))).toBe(false);
    expect((await fetch(fresh.url!)).status).toBe(200);
    expect((await fetch(posted.url!)).status).toBe(200);
  });

  it('lets go of the media of a deleted status: a redraft attaches them again, else the sweep removes them', async () => {
    const json = { ...auth(), 'content-type': 'application/json' };
    const send = async (body: Record<string, unknown>) =>
      (await (
        await fetch(`${base}/api/v1/statuses`, { method: 'POST', headers: json, body: JSON.stringify(body) })
      ).json()) as { id: string; media_attachments: Media[] };
    const kept = (await upload(await photo(), 'kept.jpg')).body;
    const dropped = (await upload(await photo(), 'dropped.jpg')).body;
    const first = await send({ status: 'First draft', media_ids: [kept.id, dropped.id] });
    expect(first.media_attachments).toHaveLength(2);
    expect(
      (await fetch(`${base}/api/v1/statuses/${first.id}`, { method: 'DELETE', headers: auth() })).status,
    ).toBe(200);
    const redraft = await send({ status: 'Second draft', media_ids: [kept.id] });
    expect(redraft.media_attachments.map((a) => a.id)).toEqual([kept.id]);
    await db.query(
      `UPDATE ${schema()}.media_attachments SET created_at = now() - interval '25 hours' WHERE id = ANY($1::bigint[])`,
      [[kept.id, dropped.id]],
    );
    await bed.app.get(MediaSweeper).sweep();
    expect((await fetch(kept.url!)).status).toBe(200);
    expect((await fetch(dropped.url!)).status).toBe(404);
  });

  it("refuses an upload beyond the tenant's storage quota with 422, storing nothing", async () => {
    await bed.account('beta', 'uploader');
    const betaToken = await bed.token('beta', 'uploader');
    const send = async (file: Buffer) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(file)]), 'photo.jpg');
      const res = await fetch(`${bed.base.beta}/api/v2/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${betaToken}` },
        body: form,
      });
      return { status: res.status, body: (await res.json()) as { error?: string } };
    };
    const first = await send(await photo());
    expect(first.status).toBe(200);
    const [{ used }] = (await db.query(
      `SELECT sum(file_size)::int AS used FROM ${schema('beta')}.media_attachments`,
    )) as { used: number }[];
    // The operator gives this tenant just a little more than it uses.
    await db.query(`UPDATE platform.tenants SET media_quota_bytes = $2 WHERE id = $1`, [
      bed.tenants.beta.id,
      used + 100,
    ]);
    const [rows, stored] = [await rowCount('beta'), files(tenantDir('beta')).length];
    const refused = await send(await photo());
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatch(/media storage quota/);
    expect([await rowCount('beta'), files(tenantDir('beta')).length]).toEqual([rows, stored]);
    // Alpha, under the platform's default, is not affected.
    expect((await upload(await photo(), 'photo.jpg')).status).toBe(200);
  });

  it('announces video and audio in the instance entity, ffmpeg being there', async () => {
    const instance = (await (await fetch(`${base}/api/v2/instance`)).json()) as {
      configuration: { media_attachments: { supported_mime_types: string[]; video_size_limit: number } };
    };
    expect(instance.configuration.media_attachments.supported_mime_types).toEqual(
      expect.arrayContaining(['image/jpeg', 'video/mp4', 'video/webm', 'audio/mpeg', 'audio/wav']),
    );
    expect(instance.configuration.media_attachments.video_size_limit).toBe(99 * 1024 * 1024);
  });
});

describe('Media without ffmpeg', () => {
  let bed: ClientTestbed;

  beforeAll(async () => {
    bed = await startClientTestbed(TENANTS.slice(0, 1), { TOWNHALL_FFMPEG: '/nonexistent/ffmpeg' });
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('announces images only and refuses video with a clear message', async () => {
    const instance = (await (await fetch(`${bed.base.alpha}/api/v2/instance`)).json()) as {
      configuration: { media_attachments: { supported_mime_types: string[] } };
    };
    expect(instance.configuration.media_attachments.supported_mime_types).toEqual([
      'image/jpeg',
      'image/png',
      'image/gif',
      'image/webp',
      'image/avif',
    ]);
    await bed.account('alpha', 'editor');
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(webm())]), 'clip.webm');
    const res = await fetch(`${bed.base.alpha}/api/v2/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await bed.token('alpha', 'editor')}` },
      body: form,
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: string }).error).toMatch(
      /video\/webm is not accepted by this instance/,
    );
  });
});

/** The ids of a process's descendants, read from /proc (children first found, deepest last). */
function descendants(pid: number): number[] {
  let listed: string;
  try {
    listed = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return [];
  }
  const children = listed.trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

describe('Media processing when a worker dies mid-job', () => {
  let bed: ClientTestbed;
  let dir: string;
  const QUEUE_TIMING = { TOWNHALL_QUEUE_LOCK_MS: '1000', TOWNHALL_QUEUE_STALLED_INTERVAL_MS: '1000' };

  beforeAll(async () => {
    bed = await startClientTestbed(TENANTS.slice(0, 1), QUEUE_TIMING);
    dir = mkdtempSync(join(tmpdir(), 'townhall-slow-ffmpeg-'));
  });

  afterAll(async () => {
    await bed?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('loses no upload: another worker takes the stalled job over and finishes it', async () => {
    await bed.account('alpha', 'editor');
    const token = await bed.token('alpha', 'editor');
    const queue = bed.app.get<Queue>(getQueueToken(MEDIA_QUEUE));
    // An ffmpeg that takes its time, so the worker is surely in the middle of the job when it dies.
    const slow = join(dir, 'ffmpeg');
    writeFileSync(slow, '#!/bin/sh\ncase "$*" in *-version*) ;; *) sleep 30 ;; esac\nexec ffmpeg "$@"\n');
    chmodSync(slow, 0o755);
    await queue.pause(true);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(wav())]), 'tone.wav');
    const res = await fetch(`${bed.base.alpha}/api/v2/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as Media;
    const jobId = `${bed.tenants.alpha.id}:${id}`;

    // `townhall worker`: the queue workers without HTTP, as production runs them.
    const worker = spawn(process.execPath, [join(ROOT, 'bin/townhall.js'), 'worker'], {
      cwd: ROOT,
      env: processEnv(bed.config, {
        ...QUEUE_TIMING,
        TOWNHALL_MEDIA_ROOT: bed.config.media.root,
        TOWNHALL_FFMPEG: slow,
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let said = '';
    worker.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    await waitFor(() => /worker ready/.test(said) || worker.exitCode !== null, {
      what: 'the worker to start',
    });
    expect(said).toMatch(/worker ready/);
    try {
      await waitFor(async () => (await queue.getActive()).some((j) => String(j.id) === jobId), {
        what: 'the worker process to take the job',
      });
      await waitFor(() => descendants(worker.pid!).length > 0, { what: 'the worker to start ffmpeg' });
    } finally {
      // The worker dies at once with everything it started (its own process group): ffmpeg included.
      process.kill(-worker.pid!, 'SIGKILL');
      await waitFor(() => worker.exitCode !== null || worker.signalCode !== null, {
        what: 'the worker to die',
      });
      worker.stderr!.destroy();
    }
    const auth = { authorization: `Bearer ${token}` };
    expect((await fetch(`${bed.base.alpha}/api/v1/media/${id}`, { headers: auth })).status).toBe(206);
    await queue.resume(true);
    const done = await waitFor(
      async () => {
        const r = await fetch(`${bed.base.alpha}/api/v1/media/${id}`, { headers: auth });
        return r.status === 200 ? ((await r.json()) as Media) : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the stalled job to be finished by this process' },
    );
    expect(done).toMatchObject({ type: 'audio', url: expect.stringMatching(/\/original\.mp3$/) });
    expect((await fetch(done.url!)).status).toBe(200);
  });
});
