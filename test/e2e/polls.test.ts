import { createRestAPIClient } from 'masto';
import { callApi, ClientTestbed, startClientTestbed } from './client-support';

type Poll = {
  id: string;
  expires_at: string | null;
  expired: boolean;
  multiple: boolean;
  votes_count: number;
  voters_count: number | null;
  options: { title: string; votes_count: number | null }[];
  voted?: boolean;
  own_votes?: number[];
};
type Status = { id: string; poll: Poll | null };

/** Polls as Mastodon 4.3 runs them: posted with a status, voted once, totals hidden when asked. */
describe('Polls (real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;
  let base: string;
  const people: Record<string, { id: string; token: string }> = {};

  beforeAll(async () => {
    bed = await startClientTestbed([
      { slug: 'alpha', domain: 'social.alpha.test', displayName: 'Alpha', adminEmail: 'press@alpha.example' },
    ]);
    base = bed.base.alpha;
    for (const name of ['asker', 'voter_a', 'voter_b', 'outsider']) {
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
    body?: Record<string, unknown> | URLSearchParams,
  ) => callApi<T>(base, method, path, who ? people[who].token : null, body);

  it('posts a poll from a form (poll[options][]), takes one vote per person, and shows the tallies', async () => {
    const form = new URLSearchParams();
    form.append('status', 'Which opening hours suit you?');
    for (const option of ['Mornings', 'Evenings', 'Saturdays']) form.append('poll[options][]', option);
    form.append('poll[expires_in]', '86400');
    const posted = await call<Status>('POST', '/api/v1/statuses', 'asker', form);
    expect(posted.status).toBe(200);
    const poll = posted.body.poll!;
    expect(poll).toMatchObject({
      expired: false,
      multiple: false,
      votes_count: 0,
      options: [
        { title: 'Mornings', votes_count: 0 },
        { title: 'Evenings', votes_count: 0 },
        { title: 'Saturdays', votes_count: 0 },
      ],
      voted: true,
      own_votes: [],
    });
    expect(Date.parse(poll.expires_at!) - Date.now()).toBeGreaterThan(86_000_000);

    const client = createRestAPIClient({ url: base, accessToken: people.voter_a.token });
    const voted = await client.v1.polls.$select(poll.id).votes.create({ choices: [1] });
    expect(voted).toMatchObject({ votesCount: 1, votersCount: 1, voted: true, ownVotes: [1] });
    expect(voted.options[1].votesCount).toBe(1);

    const again = await call<{ error: string }>('POST', `/api/v1/polls/${poll.id}/votes`, 'voter_a', {
      choices: ['0'],
    });
    expect(again).toMatchObject({ status: 422, body: { error: expect.stringMatching(/already voted/) } });
    const own = await call<{ error: string }>('POST', `/api/v1/polls/${poll.id}/votes`, 'asker', {
      choices: ['0'],
    });
    expect(own).toMatchObject({ status: 422, body: { error: expect.stringMatching(/own poll/) } });
    for (const choices of [['3'], ['0', '1'], []]) {
      expect((await call('POST', `/api/v1/polls/${poll.id}/votes`, 'voter_b', { choices })).status).toBe(422);
    }
    const anonymous = await call<Poll>('GET', `/api/v1/polls/${poll.id}`, null);
    expect(anonymous.body).toMatchObject({ votes_count: 1 });
    expect(anonymous.body.voted).toBeUndefined();
    const status = await call<Status>('GET', `/api/v1/statuses/${posted.body.id}`, 'voter_a');
    expect(status.body.poll).toMatchObject({ voted: true, own_votes: [1] });
  });

  it('counts several choices in a multiple-choice poll and hides totals from others until it ends', async () => {
    const posted = await call<Status>('POST', '/api/v1/statuses', 'asker', {
      status: 'Which services do you use?',
      poll: {
        options: ['Passports', 'Parking', 'Waste'],
        expires_in: 3600,
        multiple: true,
        hide_totals: true,
      },
    });
    const id = posted.body.poll!.id;
    const voted = await call<Poll>('POST', `/api/v1/polls/${id}/votes`, 'voter_a', { choices: [0, 2] });
    expect(voted.body).toMatchObject({ votes_count: 2, voters_count: 1, own_votes: [0, 2] });
    expect(voted.body.options.map((o) => o.votes_count)).toEqual([null, null, null]);
    const forAuthor = await call<Poll>('GET', `/api/v1/polls/${id}`, 'asker');
    expect(forAuthor.body.options.map((o) => o.votes_count)).toEqual([1, 0, 1]);
  });

  it('refuses bad polls and writes no status', async () => {
    const before = (await call<Status[]>('GET', `/api/v1/accounts/${people.asker.id}/statuses`, null)).body
      .length;
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ options: ['Only one'], expires_in: 3600 }, /at least 2 options/],
      [{ options: ['a', 'b', 'c', 'd', 'e'], expires_in: 3600 }, /more than 4 options/],
      [{ options: ['Same', 'Same'], expires_in: 3600 }, /duplicate/],
      [{ options: ['x'.repeat(51), 'y'], expires_in: 3600 }, /1 to 50 characters/],
      [{ options: ['a', 'b'], expires_in: 60 }, /too short/],
      [{ options: ['a', 'b'], expires_in: 99_999_999 }, /too long/],
    ];
    for (const [poll, message] of bad) {
      const res = await call<{ error: string }>('POST', '/api/v1/statuses', 'asker', {
        status: 'Bad poll',
        poll,
      });
      expect({ status: res.status, error: res.body.error }).toEqual({
        status: 422,
        error: expect.stringMatching(message),
      });
    }
    expect(
      (await call('POST', '/api/v1/statuses', 'asker', { status: 'x', poll: { options: 'a' } })).status,
    ).toBe(400);
    const after = (await call<Status[]>('GET', `/api/v1/accounts/${people.asker.id}/statuses`, null)).body
      .length;
    expect(after).toBe(before);
  });

  it('keeps a followers-only poll from people who may not see its status', async () => {
    const posted = await call<Status>('POST', '/api/v1/statuses', 'asker', {
      status: 'For followers',
      visibility: 'private',
      poll: { options: ['Yes', 'No'], expires_in: 3600 },
    });
    const id = posted.body.poll!.id;
    expect((await call('GET', `/api/v1/polls/${id}`, 'outsider')).status).toBe(404);
    expect((await call('POST', `/api/v1/polls/${id}/votes`, 'outsider', { choices: [0] })).status).toBe(404);
    expect((await call('GET', '/api/v1/polls/not-a-number', null)).status).toBe(404);
  });
});
