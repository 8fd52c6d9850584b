import { Client } from 'pg';
import { withDefaultUser } from '@townhall/persistence';
import sharp from 'sharp';
import { waitFor } from '../support/wait';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type Scheduled = {
  id: string;
  scheduled_at: string;
  params: { text: string | null; visibility: string; media_ids: string[] | null };
  media_attachments: { id: string }[];
};
type Status = { id: string; content: string; media_attachments: { id: string }[] };

/**
 * Scheduled statuses and the end of polls, as Mastodon 4.3 handles them, with the worker that does
 * scheduled work running in the app: the test moves an item's due time to now in the database rather
 * than waiting minutes.
 */
describe('Scheduled statuses and ended polls (real HTTP, PostgreSQL, Redis and the scheduled-work worker)', () => {
  let bed: ClientTestbed;
  let base: string;
  let owner: Client;
  const people: Record<string, { id: string; token: string }> = {};

  beforeAll(async () => {
    bed = await startClientTestbed(
      [
        {
          slug: 'alpha',
          domain: 'social.alpha.test',
          displayName: 'Alpha',
          adminEmail: 'press@alpha.example',
        },
      ],
      { TOWNHALL_SCHEDULED_WORK_INTERVAL_MS: '100' },
    );
    base = bed.base.alpha;
    for (const name of ['planner', 'voter']) {
      const { id } = await bed.account('alpha', name);
      people[name] = { id, token: await bed.token('alpha', name) };
    }
    owner = new Client({ connectionString: withDefaultUser(bed.config.database.url) });
    await owner.connect();
  });

  afterAll(async () => {
    await owner?.end();
    await bed?.close();
  });

  const call = <T = unknown>(method: string, path: string, who: string, body?: Record<string, unknown>) =>
    callApi<T>(base, method, path, people[who].token, body);
  const inMinutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

  /** Makes the scheduled work for `refId` due now, as if its time had come. */
  async function dueNow(kind: string, refId: string): Promise<void> {
    const { rowCount } = await owner.query(
      `UPDATE platform.scheduled_work SET due_at = now() WHERE kind = $1 AND ref_id = $2`,
      [kind, refId],
    );
    expect(rowCount).toBe(1);
  }

  it('schedules a status with its media, lists, moves and publishes it once when its time comes', async () => {
    const form = new FormData();
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#444' } })
      .png()
      .toBuffer();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'a.png');
    const media = (await callApi<{ id: string }>(base, 'POST', '/api/v2/media', people.planner.token, form))
      .body;

    const created = await call<Scheduled>('POST', '/api/v1/statuses', 'planner', {
      status: 'The consultation opens now',
      visibility: 'unlisted',
      media_ids: [media.id],
      scheduled_at: inMinutes(60),
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      params: { text: 'The consultation opens now', visibility: 'unlisted', media_ids: [media.id] },
      media_attachments: [{ id: media.id }],
    });
    const listed = await call<Scheduled[]>('GET', '/api/v1/scheduled_statuses', 'planner');
    expect(listed.body.map((s) => s.id)).toEqual([created.body.id]);
    const later = inMinutes(120);
    const moved = await call<Scheduled>('PUT', `/api/v1/scheduled_statuses/${created.body.id}`, 'planner', {
      scheduled_at: later,
    });
    expect(Date.parse(moved.body.scheduled_at)).toBe(Date.parse(later));
    // Not published before its time.
    expect(
      (await call<Status[]>('GET', `/api/v1/accounts/${people.planner.id}/statuses`, 'planner')).body,
    ).toEqual([]);

    await dueNow('publish_status', created.body.id);
    const published = await waitFor(
      async () => {
        const statuses = (
          await call<Status[]>('GET', `/api/v1/accounts/${people.planner.id}/statuses`, 'planner')
        ).body;
        return statuses.length > 0 ? statuses : undefined;
      },
      { what: 'the scheduled status to be published', timeoutMs: 15_000 },
    );
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      content: expect.stringContaining('The consultation opens now'),
      media_attachments: [{ id: media.id }],
    });
    expect((await call('GET', `/api/v1/scheduled_statuses/${created.body.id}`, 'planner')).status).toBe(404);
    const left = await owner.query(`SELECT 1 FROM platform.scheduled_work WHERE ref_id = $1`, [
      created.body.id,
    ]);
    expect(left.rowCount).toBe(0);
  });

  it('cancels a scheduled status, which then never appears', async () => {
    const created = await call<Scheduled>('POST', '/api/v1/statuses', 'planner', {
      status: 'Never mind',
      scheduled_at: inMinutes(30),
    });
    expect((await call('DELETE', `/api/v1/scheduled_statuses/${created.body.id}`, 'planner')).status).toBe(
      200,
    );
    const work = await owner.query(`SELECT 1 FROM platform.scheduled_work WHERE ref_id = $1`, [
      created.body.id,
    ]);
    expect(work.rowCount).toBe(0);
    expect((await call('GET', `/api/v1/scheduled_statuses/${created.body.id}`, 'planner')).status).toBe(404);
    expect((await call('DELETE', `/api/v1/scheduled_statuses/${created.body.id}`, 'voter')).status).toBe(404);
  });

  it('refuses a time less than five minutes ahead, a bad date and bad content, writing nothing', async () => {
    const before = (await call<Scheduled[]>('GET', '/api/v1/scheduled_statuses', 'planner')).body.length;
    const soon = await call<{ error: string }>('POST', '/api/v1/statuses', 'planner', {
      status: 'Too soon',
      scheduled_at: inMinutes(2),
    });
    expect(soon).toMatchObject({
      status: 422,
      body: { error: expect.stringMatching(/must be in the future/) },
    });
    expect(
      (await call('POST', '/api/v1/statuses', 'planner', { status: 'x', scheduled_at: 'tomorrow' })).status,
    ).toBe(400);
    const tooLong = await call('POST', '/api/v1/statuses', 'planner', {
      status: 'x'.repeat(501),
      scheduled_at: inMinutes(10),
    });
    expect(tooLong.status).toBe(422);
    expect((await call<Scheduled[]>('GET', '/api/v1/scheduled_statuses', 'planner')).body.length).toBe(
      before,
    );
  });

  it('tells the author and the voters when a poll ends', async () => {
    const posted = await call<Status & { poll: { id: string } }>('POST', '/api/v1/statuses', 'planner', {
      status: 'Quick poll',
      poll: { options: ['Yes', 'No'], expires_in: 300 },
    });
    await call('POST', `/api/v1/polls/${posted.body.poll.id}/votes`, 'voter', { choices: [0] });
    const { rows } = await owner.query<{ schema_name: string }>(
      `SELECT schema_name FROM platform.tenants WHERE id = $1`,
      [bed.tenants.alpha.id],
    );
    await owner.query(`UPDATE ${rows[0].schema_name}.polls SET expires_at = now() WHERE id = $1`, [
      posted.body.poll.id,
    ]);
    await dueNow('poll_ended', posted.body.poll.id);
    for (const who of ['planner', 'voter']) {
      const found = await waitFor(
        async () => {
          const list = (
            await call<{ type: string; status: { id: string } }[]>(
              'GET',
              '/api/v1/notifications?types[]=poll',
              who,
            )
          ).body;
          return list.length > 0 ? list : undefined;
        },
        { what: `the poll notification of ${who}`, timeoutMs: 15_000 },
      );
      expect(found.map((n) => [n.type, n.status.id])).toEqual([['poll', posted.body.id]]);
    }
    const poll = await call<{ expired: boolean }>('GET', `/api/v1/polls/${posted.body.poll.id}`, 'voter');
    expect(poll.body.expired).toBe(true);
  });
});
