import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { createStreamingAPIClient, type mastodon } from 'masto';
import generator from 'megalodon';
import WebSocket from 'ws';
import { queueStatusEvent } from '@townhall/social';
import { tenantRef, TenantTransactions } from '@townhall/tenancy';
import { InstanceAppModule } from '../../apps/instance/src/instance-app.module';
import { freePort } from '../support/processes';
import { waitFor } from '../support/wait';
import {
  callApi,
  type ClientTestbed,
  signInThroughAuthorizePage,
  startClientTestbed,
} from './client-support';
import { startHttpApp, type TenantSeed } from './instance-support';

// masto.js's streaming client expects what browsers and Node 22 have.
const globals = globalThis as unknown as { WebSocket?: unknown; Promise: { withResolvers?: unknown } };
globals.WebSocket ??= WebSocket;
globals.Promise.withResolvers ??= <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

const ALPHA: TenantSeed = {
  slug: 'alpha',
  domain: 'social.alpha.test',
  displayName: 'Alpha Ministry',
  adminEmail: 'press@alpha.example',
};
const GAMMA: TenantSeed = {
  slug: 'gamma',
  domain: 'social.gamma.test',
  displayName: 'Gamma',
  adminEmail: 'press@gamma.example',
};
const BETA: TenantSeed = {
  slug: 'beta',
  domain: 'social.beta.test',
  displayName: 'Beta Agency',
  adminEmail: 'press@beta.example',
};

interface StreamMessage {
  stream?: string[];
  event?: string;
  payload?: string;
  error?: string;
  status?: number;
}

/** A raw WebSocket client of the streaming API that keeps every message it received. */
class RawStream {
  readonly messages: StreamMessage[] = [];
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.messages.push(JSON.parse(data.toString()) as StreamMessage));
    ws.on('close', (code: number, reason: Buffer) => (this.closed = { code, reason: reason.toString() }));
  }

  static async open(base: string, token: string, query = ''): Promise<RawStream> {
    const url = `${base.replace(/^http/, 'ws')}/api/v1/streaming${query ? `?${query}` : ''}`;
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const stream = new RawStream(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return stream;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  async next(what: string, match: (m: StreamMessage) => boolean): Promise<StreamMessage> {
    let found: StreamMessage | undefined;
    await waitFor(() => (found = this.messages.find(match)) !== undefined, { timeoutMs: 10_000, what });
    return found!;
  }

  close(): void {
    this.ws.close();
  }
}

/** The statuses of `update` messages a stream got. */
function updates(stream: RawStream): { id: string; content: string; filtered?: unknown[] }[] {
  return stream.messages
    .filter((m) => m.event === 'update')
    .map((m) => JSON.parse(m.payload!) as { id: string; content: string; filtered?: unknown[] });
}

describe('streaming API (WebSocket and server-sent events; real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;
  let redis: Redis;
  const opened: { close(): void }[] = [];

  /** Waits until this many connections of the platform listen on a tenant's channel (Redis PUBSUB NUMSUB). */
  async function listening(slug: string, name: string, count = 1): Promise<void> {
    const channel = `${bed.config.redis.keyPrefix}:timeline:${bed.tenants[slug].id}:${name}`;
    await waitFor(
      async () => {
        const [, n] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
        return n >= count;
      },
      { timeoutMs: 10_000, what: `a subscription to ${name}` },
    );
  }

  async function stream(slug: string, token: string, query = ''): Promise<RawStream> {
    const s = await RawStream.open(bed.base[slug], token, query);
    opened.push(s);
    return s;
  }

  async function post(slug: string, token: string, body: Record<string, unknown>): Promise<string> {
    const res = await callApi<{ id: string }>(bed.base[slug], 'POST', '/api/v1/statuses', token, body);
    expect(res.status).toBe(200);
    return res.body.id;
  }

  async function follow(slug: string, token: string, accountId: string): Promise<void> {
    const res = await callApi(bed.base[slug], 'POST', `/api/v1/accounts/${accountId}/follow`, token);
    expect(res.status).toBe(200);
  }

  beforeAll(async () => {
    bed = await startClientTestbed([ALPHA, BETA, GAMMA]);
    redis = new Redis(bed.config.redis.url);
  });

  afterAll(async () => {
    for (const s of opened) s.close();
    redis?.disconnect();
    await bed?.close();
  });

  it('masto.js receives update, notification, status.update and delete on the user stream', async () => {
    const reader = await bed.account('alpha', 'masto_reader');
    const writer = await bed.account('alpha', 'masto_writer');
    const readerToken = await bed.token('alpha', 'masto_reader');
    const writerToken = await bed.token('alpha', 'masto_writer');
    await follow('alpha', readerToken, writer.id);

    const client = createStreamingAPIClient({
      streamingApiUrl: bed.base.alpha.replace(/^http/, 'ws'),
      accessToken: readerToken,
      retry: false,
    });
    opened.push({ close: () => client.close() });
    const events: mastodon.streaming.Event[] = [];
    const subscription = client.user.subscribe();
    void (async () => {
      for await (const event of subscription) events.push(event);
    })().catch(() => undefined);
    await listening('alpha', reader.id);

    const id = await post('alpha', writerToken, { status: 'Streaming to @masto_reader' });
    await waitFor(() => events.some((e) => e.event === 'update' && e.payload.id === id), {
      what: 'the update',
    });
    await waitFor(() => events.some((e) => e.event === 'notification' && e.payload.status?.id === id), {
      what: 'the mention notification',
    });
    const edit = await callApi(bed.base.alpha, 'PUT', `/api/v1/statuses/${id}`, writerToken, {
      status: 'Edited while streaming',
    });
    expect(edit.status).toBe(200);
    await waitFor(
      () =>
        events.some(
          (e) => e.event === 'status.update' && e.payload.id === id && /Edited/.test(e.payload.content),
        ),
      { what: 'the status.update' },
    );
    expect((await callApi(bed.base.alpha, 'DELETE', `/api/v1/statuses/${id}`, writerToken)).status).toBe(200);
    await waitFor(() => events.some((e) => e.event === 'delete' && e.payload === id), { what: 'the delete' });
    const update = events.find((e) => e.event === 'update')!;
    expect(update.stream).toEqual(['user']);
    expect(update.event === 'update' && update.payload.account.acct).toBe('masto_writer');
  });

  it('megalodon receives update, notification, status.update and delete on the user stream', async () => {
    const reader = await bed.account('alpha', 'mega_reader');
    const writer = await bed.account('alpha', 'mega_writer');
    const readerToken = await bed.token('alpha', 'mega_reader');
    const writerToken = await bed.token('alpha', 'mega_writer');
    await follow('alpha', readerToken, writer.id);

    const client = generator('mastodon', bed.base.alpha, readerToken);
    const socket = await client.userStreaming();
    opened.push({ close: () => socket.stop() });
    const got: { event: string; value: unknown }[] = [];
    for (const event of ['update', 'notification', 'status_update', 'delete'])
      socket.on(event, (value: unknown) => got.push({ event, value }));
    await listening('alpha', reader.id);

    const id = await post('alpha', writerToken, { status: 'Hello @mega_reader' });
    const has = (event: string, test: (v: Record<string, unknown>) => boolean) =>
      got.some((g) => g.event === event && test(g.value as Record<string, unknown>));
    await waitFor(() => has('update', (s) => s.id === id), { what: 'the update' });
    await waitFor(() => has('notification', (n) => (n.status as { id: string })?.id === id), {
      what: 'the notification',
    });
    await callApi(bed.base.alpha, 'PUT', `/api/v1/statuses/${id}`, writerToken, { status: 'Changed' });
    await waitFor(() => has('status_update', (s) => s.id === id), { what: 'the status.update' });
    await callApi(bed.base.alpha, 'DELETE', `/api/v1/statuses/${id}`, writerToken);
    await waitFor(() => got.some((g) => g.event === 'delete' && g.value === id), { what: 'the delete' });
    // Stopped now, before megalodon's first ping (10 s after connecting): its answer would start a
    // heartbeat timer that megalodon never clears, and that keeps the test worker alive.
    socket.stop();
  });

  it('a server-sent event stream receives an update', async () => {
    await bed.account('alpha', 'sse_reader');
    await bed.account('alpha', 'sse_writer');
    const readerToken = await bed.token('alpha', 'sse_reader');
    const writerToken = await bed.token('alpha', 'sse_writer');
    const health = await fetch(`${bed.base.alpha}/api/v1/streaming/health`);
    expect(await health.text()).toBe('OK');

    const controller = new AbortController();
    opened.push({ close: () => controller.abort() });
    const res = await fetch(`${bed.base.alpha}/api/v1/streaming/public/local`, {
      headers: { authorization: `Bearer ${readerToken}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    let text = '';
    const reader = res.body!.getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString();
      }
    })().catch(() => undefined);
    await listening('alpha', 'public:local');
    const id = await post('alpha', writerToken, { status: 'Over server-sent events' });
    await waitFor(() => text.includes(`"id":"${id}"`), { what: 'the update event' });
    expect(text.startsWith(':)\n')).toBe(true);
    expect(text).toMatch(new RegExp(`event: update\ndata: \\{"id":"${id}"`));
    const unauthorised = await fetch(`${bed.base.alpha}/api/v1/streaming/public/local`);
    expect(unauthorised.status).toBe(401);
    expect(await unauthorised.json()).toEqual({ error: 'Missing access token' });
  });

  it('an event published by a second app on the same platform reaches a client of the first', async () => {
    await bed.account('alpha', 'second_writer');
    const writerToken = await bed.token('alpha', 'second_writer');
    await bed.account('alpha', 'second_reader');
    const readerToken = await bed.token('alpha', 'second_reader');
    const other: INestApplication = await startHttpApp(InstanceAppModule.forRoot(bed.config));
    try {
      const port = await freePort();
      await other.listen(port, '127.0.0.1');
      const client = await stream('alpha', readerToken, 'stream=public:local');
      await listening('alpha', 'public:local');
      const res = await callApi<{ id: string }>(
        `http://${ALPHA.domain}:${port}`,
        'POST',
        '/api/v1/statuses',
        writerToken,
        { status: 'Posted through the other app' },
      );
      expect(res.status).toBe(200);
      await client.next(
        'the update from the other app',
        (m) => m.event === 'update' && m.payload!.includes(res.body.id),
      );
      // Its own clients are let go when it shuts down, so closing it does not wait for them.
      const own = await RawStream.open(`http://${ALPHA.domain}:${port}`, readerToken, 'stream=public');
      opened.push(own);
      await other.close();
      await waitFor(() => own.closed !== undefined, { what: 'the other app to drop its client' });
    } finally {
      await other.close().catch(() => undefined);
    }
  });

  it("a tenant's connections never see another tenant's events", async () => {
    await bed.account('alpha', 'iso_alpha');
    await bed.account('beta', 'iso_beta');
    const alphaToken = await bed.token('alpha', 'iso_alpha');
    const betaToken = await bed.token('beta', 'iso_beta');
    const alpha = await stream('alpha', alphaToken, 'stream=public');
    await listening('alpha', 'public');
    const betaId = await post('beta', betaToken, { status: 'Only for beta' });
    const alphaId = await post('alpha', alphaToken, { status: 'For alpha' });
    await alpha.next("alpha's own update", (m) => m.event === 'update' && m.payload!.includes(alphaId));
    expect(updates(alpha).map((s) => s.id)).not.toContain(betaId);
    expect(alpha.messages.every((m) => !JSON.stringify(m).includes('Only for beta'))).toBe(true);
    // Beta's token is not a token of alpha.
    await expect(RawStream.open(bed.base.alpha, betaToken)).rejects.toThrow(/401/);
  });

  it("a private status reaches its followers' user streams and nobody else", async () => {
    const author = await bed.account('alpha', 'priv_author');
    const follower = await bed.account('alpha', 'priv_follower');
    const stranger = await bed.account('alpha', 'priv_stranger');
    const authorToken = await bed.token('alpha', 'priv_author');
    const followerToken = await bed.token('alpha', 'priv_follower');
    const strangerToken = await bed.token('alpha', 'priv_stranger');
    await follow('alpha', followerToken, author.id);
    const followerStream = await stream('alpha', followerToken, 'stream=user');
    const strangerStream = await stream('alpha', strangerToken, 'stream=user');
    strangerStream.send({ type: 'subscribe', stream: 'public:local' });
    await listening('alpha', follower.id);
    await listening('alpha', stranger.id);
    await listening('alpha', 'public:local');

    const privateId = await post('alpha', authorToken, { status: 'Followers only', visibility: 'private' });
    const publicId = await post('alpha', authorToken, { status: 'Everyone', visibility: 'public' });
    await followerStream.next(
      'the private status',
      (m) => m.event === 'update' && m.payload!.includes(privateId),
    );
    await strangerStream.next(
      'the public status',
      (m) => m.event === 'update' && m.payload!.includes(publicId),
    );
    await followerStream.next(
      'the public status',
      (m) => m.event === 'update' && m.payload!.includes(publicId),
    );
    expect(updates(strangerStream).map((s) => s.id)).not.toContain(privateId);
    expect(strangerStream.messages.some((m) => m.stream?.[0] === 'public:local')).toBe(true);
  });

  it("applies the viewer's filters and mutes to public streams", async () => {
    const muter = await bed.account('alpha', 'f_viewer');
    const loud = await bed.account('alpha', 'f_loud');
    await bed.account('alpha', 'f_quiet');
    const viewerToken = await bed.token('alpha', 'f_viewer');
    const loudToken = await bed.token('alpha', 'f_loud');
    const quietToken = await bed.token('alpha', 'f_quiet');
    expect(
      (await callApi(bed.base.alpha, 'POST', `/api/v1/accounts/${loud.id}/mute`, viewerToken)).status,
    ).toBe(200);
    const filter = await callApi(bed.base.alpha, 'POST', '/api/v2/filters', viewerToken, {
      title: 'Spoilers',
      context: ['public'],
      filter_action: 'warn',
      keywords_attributes: [{ keyword: 'finale' }],
    });
    expect(filter.status).toBe(200);
    const viewer = await stream('alpha', viewerToken, 'stream=public:local');
    await listening('alpha', 'public:local');
    await listening('alpha', `system:${muter.id}`);
    const mutedId = await post('alpha', loudToken, { status: 'Muted voice' });
    const filteredId = await post('alpha', quietToken, { status: 'The finale was great' });
    const filtered = await viewer.next(
      'the filtered status',
      (m) => m.event === 'update' && m.payload!.includes(filteredId),
    );
    expect(JSON.parse(filtered.payload!)).toMatchObject({
      id: filteredId,
      filtered: [{ filter: { title: 'Spoilers', filter_action: 'warn' }, keyword_matches: ['finale'] }],
    });
    expect(updates(viewer).map((s) => s.id)).not.toContain(mutedId);

    // A filter made while connected applies to the next status at once.
    const later = await callApi(bed.base.alpha, 'POST', '/api/v2/filters', viewerToken, {
      title: 'Weather',
      context: ['public'],
      filter_action: 'warn',
      keywords_attributes: [{ keyword: 'rain' }],
    });
    expect(later.status).toBe(200);
    const rainId = await post('alpha', quietToken, { status: 'More rain tomorrow' });
    const rain = await viewer.next(
      'the status the new filter matches',
      (m) => m.event === 'update' && m.payload!.includes(rainId),
    );
    expect(JSON.parse(rain.payload!)).toMatchObject({
      filtered: [{ filter: { title: 'Weather' }, keyword_matches: ['rain'] }],
    });
    // As in Mastodon 4.3, the client is not sent `filters_changed` (it has no payload).
    expect(viewer.messages.some((m) => m.event === 'filters_changed')).toBe(false);
  });

  it("carries hashtag, list and direct streams: the tag's statuses, the list members', conversations to participants", async () => {
    const owner = await bed.account('alpha', 'topic_owner');
    const member = await bed.account('alpha', 'topic_member');
    await bed.account('alpha', 'topic_outsider');
    const ownerToken = await bed.token('alpha', 'topic_owner');
    const memberToken = await bed.token('alpha', 'topic_member');
    const outsiderToken = await bed.token('alpha', 'topic_outsider');
    await follow('alpha', ownerToken, member.id);
    const list = await callApi<{ id: string }>(bed.base.alpha, 'POST', '/api/v1/lists', ownerToken, {
      title: 'Members',
    });
    const added = await callApi(
      bed.base.alpha,
      'POST',
      `/api/v1/lists/${list.body.id}/accounts`,
      ownerToken,
      {
        account_ids: [member.id],
      },
    );
    expect(added.status).toBe(200);
    const socket = await stream('alpha', ownerToken);
    socket.send({ type: 'subscribe', stream: 'hashtag', tag: 'Budget' });
    socket.send({ type: 'subscribe', stream: 'list', list: list.body.id });
    socket.send({ type: 'subscribe', stream: 'direct' });
    await listening('alpha', 'hashtag:budget');
    await listening('alpha', `list:${list.body.id}`);
    await listening('alpha', `direct:${owner.id}`);

    const tagged = await post('alpha', outsiderToken, { status: 'The #budget is out' });
    const listed = await post('alpha', memberToken, { status: 'A member speaks' });
    const direct = await post('alpha', memberToken, {
      status: '@topic_owner between us',
      visibility: 'direct',
    });
    const onTag = await socket.next(
      'the tagged status',
      (m) => m.event === 'update' && m.payload!.includes(tagged),
    );
    expect(onTag.stream).toEqual(['hashtag', 'Budget']);
    const onList = await socket.next(
      'the list status',
      (m) => m.event === 'update' && m.payload!.includes(listed),
    );
    expect(onList.stream).toEqual(['list', list.body.id]);
    const conversation = await socket.next('the conversation', (m) => m.event === 'conversation');
    expect(conversation.stream).toEqual(['direct']);
    expect(JSON.parse(conversation.payload!)).toMatchObject({
      unread: true,
      accounts: [{ acct: 'topic_member' }],
      last_status: { id: direct, visibility: 'direct' },
    });
    // The outsider's status is not the list's, the member's is not the tag's.
    expect(socket.messages.filter((m) => m.stream?.[0] === 'list').map((m) => m.payload)).not.toContainEqual(
      expect.stringContaining(tagged),
    );
    expect(
      socket.messages.filter((m) => m.stream?.[0] === 'hashtag').map((m) => m.payload),
    ).not.toContainEqual(expect.stringContaining(listed));
  });

  it("leaves a blocked domain's statuses out of public streams unless the viewer follows the account", async () => {
    const viewer = await bed.account('alpha', 'dom_viewer');
    const viewerToken = await bed.token('alpha', 'dom_viewer');
    const blocked = await callApi(bed.base.alpha, 'POST', '/api/v1/domain_blocks', viewerToken, {
      domain: 'blocked.example',
    });
    expect(blocked.status).toBe(200);
    const socket = await stream('alpha', viewerToken, 'stream=public');
    await listening('alpha', 'public');
    // Remote statuses arrive through federation; here they are written as it will write them, and
    // published through the same after-commit path.
    const tenant = tenantRef(bed.tenants.alpha, ALPHA.domain);
    const remote = async (domain: string, text: string): Promise<string> =>
      bed.app.get(TenantTransactions).runIn(tenant, async (m) => {
        const [account] = (await m.query(
          `INSERT INTO accounts (username, domain, uri) VALUES ($1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING id::text`,
          [`voice_${domain.split('.')[0]}`, domain, `https://${domain}/users/voice`],
        )) as { id: string }[];
        const accountId =
          account?.id ??
          (
            (await m.query(`SELECT id::text FROM accounts WHERE domain = $1`, [domain])) as { id: string }[]
          )[0].id;
        const [status] = (await m.query(
          `INSERT INTO statuses (account_id, local, text, content, visibility, uri, url)
           VALUES ($1, false, $2, $3, 0, $4, $4) RETURNING id::text`,
          [accountId, text, `<p>${text}</p>`, `https://${domain}/statuses/${Date.now()}`],
        )) as { id: string }[];
        await queueStatusEvent(m, 'update', status.id);
        return status.id;
      });
    const hiddenId = await remote('blocked.example', 'From a blocked domain');
    const shownId = await remote('open.example', 'From an open domain');
    await socket.next(
      "the open domain's status",
      (m) => m.event === 'update' && m.payload!.includes(shownId),
    );
    expect(JSON.parse(socket.messages.find((m) => m.payload?.includes(shownId))!.payload!)).toMatchObject({
      account: { acct: 'voice_open@open.example' },
    });
    expect(updates(socket).map((s) => s.id)).not.toContain(hiddenId);
    // Following the account shows it again, as in timelines.
    const author = (
      await callApi<{ id: string }>(
        bed.base.alpha,
        'GET',
        '/api/v1/accounts/lookup?acct=voice_blocked@blocked.example',
        viewerToken,
      )
    ).body;
    await bed.app
      .get(TenantTransactions)
      .runIn(tenant, (m) =>
        m.query(`INSERT INTO account_relations (kind, account_id, target_account_id) VALUES (0, $1, $2)`, [
          viewer.id,
          author.id,
        ]),
      );
    const followedId = await remote('blocked.example', 'Followed despite the block');
    await socket.next(
      "the followed account's status",
      (m) => m.event === 'update' && m.payload!.includes(followedId),
    );
  });

  it('delivers events in the order they happened: an update before the deletion that follows it', async () => {
    await bed.account('alpha', 'order_writer');
    const writerToken = await bed.token('alpha', 'order_writer');
    const socket = await stream('alpha', writerToken, 'stream=public:local');
    await listening('alpha', 'public:local');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = await post('alpha', writerToken, { status: `Short-lived ${i}` });
      ids.push(id);
      expect((await callApi(bed.base.alpha, 'DELETE', `/api/v1/statuses/${id}`, writerToken)).status).toBe(
        200,
      );
    }
    await socket.next('the last deletion', (m) => m.event === 'delete' && m.payload === ids[4]);
    const order = socket.messages.map(
      (m) => `${m.event}:${m.event === 'delete' ? m.payload : JSON.parse(m.payload!).id}`,
    );
    for (const id of ids) {
      // A status deleted before it was rendered is not shown at all; if shown, then before its deletion.
      const shown = order.indexOf(`update:${id}`);
      const deleted = order.indexOf(`delete:${id}`);
      expect(deleted).toBeGreaterThanOrEqual(0);
      if (shown >= 0) expect(shown).toBeLessThan(deleted);
    }
  });

  it("a revoked token's socket is closed at once", async () => {
    const person = await bed.account('alpha', 'revoked_user');
    const app = await callApi<{ client_id: string; client_secret: string }>(
      bed.base.alpha,
      'POST',
      '/api/v1/apps',
      null,
      {
        client_name: 'streaming test',
        redirect_uris: 'http://client.test/callback',
        scopes: 'read write',
      },
    );
    const authorize = new URL('/oauth/authorize', bed.base.alpha);
    authorize.search = new URLSearchParams({
      client_id: app.body.client_id,
      redirect_uri: 'http://client.test/callback',
      response_type: 'code',
      scope: 'read',
    }).toString();
    const code = await signInThroughAuthorizePage(authorize.toString(), person.email, person.password);
    const token = await callApi<{ access_token: string }>(bed.base.alpha, 'POST', '/oauth/token', null, {
      grant_type: 'authorization_code',
      code,
      client_id: app.body.client_id,
      client_secret: app.body.client_secret,
      redirect_uri: 'http://client.test/callback',
    });
    const socket = await stream('alpha', token.body.access_token, 'stream=user');
    await listening('alpha', person.id);
    const revoked = await callApi(bed.base.alpha, 'POST', '/oauth/revoke', null, {
      token: token.body.access_token,
      client_id: app.body.client_id,
      client_secret: app.body.client_secret,
    });
    expect(revoked.status).toBe(200);
    await waitFor(() => socket.closed !== undefined, { timeoutMs: 5_000, what: 'the socket to close' });
    expect(socket.closed!.code).toBe(1008);
    await expect(RawStream.open(bed.base.alpha, token.body.access_token)).rejects.toThrow(/401/);
  });

  it("a suspended tenant's sockets are closed at once and new ones refused", async () => {
    await bed.account('gamma', 'gamma_user');
    const token = await bed.token('gamma', 'gamma_user');
    const socket = await stream('gamma', token, 'stream=public');
    await listening('gamma', 'public');
    await bed.provisioner.lifecycle.suspend(bed.tenants.gamma.id);
    await waitFor(() => socket.closed !== undefined, { timeoutMs: 5_000, what: 'the socket to close' });
    expect(socket.closed!.code).toBe(1001);
    await expect(RawStream.open(bed.base.gamma, token)).rejects.toThrow(/503/);
  });

  it("bad subscribe messages get Mastodon's errors and change nothing", async () => {
    const person = await bed.account('alpha', 'bad_subscriber');
    const other = await bed.account('alpha', 'list_owner');
    const token = await bed.token('alpha', 'bad_subscriber');
    const otherToken = await bed.token('alpha', 'list_owner');
    const list = await callApi<{ id: string }>(bed.base.alpha, 'POST', '/api/v1/lists', otherToken, {
      title: 'Mine',
    });
    const socket = await stream('alpha', token);
    socket.send({ type: 'subscribe', stream: 'nonsense' });
    socket.send({ type: 'subscribe', stream: 'hashtag' });
    socket.send({ type: 'subscribe', stream: 'list', list: list.body.id });
    socket.ws.send('not json');
    socket.send({ type: 'dance', stream: 'user' });
    await waitFor(() => socket.messages.length >= 3, { what: 'three errors' });
    expect(socket.messages).toEqual(
      expect.arrayContaining([
        { error: 'Unknown stream type', status: 400 },
        { error: 'Missing tag name parameter', status: 400 },
        { error: 'Not authorized to stream this list', status: 401 },
      ]),
    );
    const [, n] = (await redis.pubsub(
      'NUMSUB',
      `${bed.config.redis.keyPrefix}:timeline:${bed.tenants.alpha.id}:list:${list.body.id}`,
    )) as [string, number];
    expect(n).toBe(0);
    // A token with only read:notifications may not read statuses.
    const narrow = await bed.token('alpha', 'bad_subscriber', 'read:notifications');
    const limited = await stream('alpha', narrow);
    limited.send({ type: 'subscribe', stream: 'user' });
    await limited.next('the scope error', (m) => m.error !== undefined);
    expect(limited.messages[0]).toEqual({
      error: 'Access token does not have the required scopes',
      status: 401,
    });
    expect(socket.closed).toBeUndefined();
    void person;
    void other;
  });

  it('bounds a connection: 100 subscriptions, messages of 16 KiB, text only', async () => {
    await bed.account('alpha', 'bounded');
    const token = await bed.token('alpha', 'bounded');
    const many = await stream('alpha', token);
    for (let i = 0; i <= 100; i++) many.send({ type: 'subscribe', stream: 'hashtag', tag: `topic${i}` });
    const refused = await many.next('the refusal of the 101st', (m) => m.error !== undefined);
    expect(refused).toEqual({ error: 'No more than 100 subscriptions on one connection', status: 400 });
    await listening('alpha', 'hashtag:topic99');
    const [, n] = (await redis.pubsub(
      'NUMSUB',
      `${bed.config.redis.keyPrefix}:timeline:${bed.tenants.alpha.id}:hashtag:topic100`,
    )) as [string, number];
    expect(n).toBe(0);

    const large = await stream('alpha', token);
    large.send({ type: 'subscribe', stream: 'public', padding: 'x'.repeat(16 * 1024) });
    await waitFor(() => large.closed !== undefined, { what: 'the oversized message to close the socket' });
    expect(large.closed!.code).toBe(1009);
    const binary = await stream('alpha', token);
    binary.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await waitFor(() => binary.closed !== undefined, { what: 'the binary message to close the socket' });
    expect(binary.closed!.code).toBe(1003);
  });

  it('refuses an upgrade without a token, with an unknown host, or on another path', async () => {
    const url = bed.base.alpha.replace(/^http/, 'ws');
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${url}/api/v1/streaming`);
        ws.on('open', resolve);
        ws.on('unexpected-response', (_req, res) =>
          reject(new Error(`${res.statusCode} ${res.headers['x-error-message']}`)),
        );
      }),
    ).rejects.toThrow('401 Missing access token');
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(
          url.replace(ALPHA.domain, 'nobody.test') + '/api/v1/streaming?access_token=x',
        );
        ws.on('open', resolve);
        ws.on('unexpected-response', (_req, res) => reject(new Error(String(res.statusCode))));
        ws.on('error', reject);
      }),
    ).rejects.toThrow(/404|ENOTFOUND/);
  });
});
