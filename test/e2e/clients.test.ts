import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOAuthAPIClient, createRestAPIClient } from 'masto';
import generator from 'megalodon';
import sharp from 'sharp';
import { ClientTestbed, signInThroughAuthorizePage, startClientTestbed } from './client-support';

const REDIRECT = 'http://client.test/callback';

const temporaryDirs: string[] = [];

async function writeTemporary(name: string, data: Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'townhall-clients-'));
  temporaryDirs.push(dir);
  const path = join(dir, name);
  await writeFile(path, data);
  return path;
}

function pngImage(): Promise<Buffer> {
  return sharp({ create: { width: 48, height: 32, channels: 3, background: '#204080' } })
    .png()
    .toBuffer();
}

/**
 * Mastodon compatibility, proven with two independent client libraries as apps use them: masto.js and
 * megalodon, over real HTTP against a tenant at its own domain.
 */
describe('Mastodon clients against a tenant (masto.js, megalodon; real HTTP, PostgreSQL and Redis)', () => {
  let bed: ClientTestbed;

  beforeAll(async () => {
    bed = await startClientTestbed([
      {
        slug: 'alpha',
        domain: 'social.alpha.test',
        displayName: 'Alpha Ministry',
        adminEmail: 'press@alpha.example',
      },
      {
        slug: 'beta',
        domain: 'social.beta.test',
        displayName: 'Beta Agency',
        adminEmail: 'press@beta.example',
      },
    ]);
  });

  afterAll(async () => {
    await bed?.close();
    for (const dir of temporaryDirs) await rm(dir, { recursive: true, force: true });
  });

  describe('masto.js', () => {
    it('registers an app, signs in through the authorize page, verifies credentials, and revokes', async () => {
      const person = await bed.account('alpha', 'masto_user', 'staff');
      const anonymous = createRestAPIClient({ url: bed.base.alpha });
      const app = await anonymous.v1.apps.create({
        clientName: 'masto.js test',
        redirectUris: REDIRECT,
        scopes: 'read write follow',
        website: 'https://masto.example',
      });
      expect(app).toMatchObject({
        name: 'masto.js test',
        website: 'https://masto.example',
        vapidKey: expect.any(String),
      });
      const authorize = new URL('/oauth/authorize', bed.base.alpha);
      authorize.search = new URLSearchParams({
        client_id: app.clientId!,
        redirect_uri: REDIRECT,
        response_type: 'code',
        scope: 'read write',
      }).toString();
      const code = await signInThroughAuthorizePage(authorize.toString(), person.email, person.password);
      const oauth = createOAuthAPIClient({ url: bed.base.alpha });
      const token = await oauth.token.create({
        grantType: 'authorization_code',
        clientId: app.clientId!,
        clientSecret: app.clientSecret!,
        redirectUri: REDIRECT,
        code,
      });
      expect(token).toMatchObject({
        tokenType: 'Bearer',
        scope: 'read write',
        createdAt: expect.any(Number),
      });

      const client = createRestAPIClient({ url: bed.base.alpha, accessToken: token.accessToken });
      const me = await client.v1.accounts.verifyCredentials();
      expect(me).toMatchObject({
        id: person.id,
        username: 'masto_user',
        acct: 'masto_user',
        url: `${bed.base.alpha}/@masto_user`,
        source: { privacy: 'public', note: '' },
        role: { name: 'Staff' },
      });
      expect((await client.v1.apps.verifyCredentials()).name).toBe('masto.js test');

      await oauth.revoke({
        clientId: app.clientId!,
        clientSecret: app.clientSecret!,
        token: token.accessToken,
      });
      await expect(client.v1.accounts.verifyCredentials()).rejects.toMatchObject({ statusCode: 401 });
    });

    it('refuses a token of one tenant on another tenant’s domain', async () => {
      const person = await bed.account('alpha', 'crossing');
      const anonymous = createRestAPIClient({ url: bed.base.alpha });
      const app = await anonymous.v1.apps.create({ clientName: 'x', redirectUris: REDIRECT, scopes: 'read' });
      const url = `${bed.base.alpha}/oauth/authorize?${new URLSearchParams({ client_id: app.clientId!, redirect_uri: REDIRECT, response_type: 'code' })}`;
      const code = await signInThroughAuthorizePage(url, person.email, person.password);
      const token = await createOAuthAPIClient({ url: bed.base.alpha }).token.create({
        grantType: 'authorization_code',
        clientId: app.clientId!,
        clientSecret: app.clientSecret!,
        redirectUri: REDIRECT,
        code,
      });
      const onBeta = createRestAPIClient({ url: bed.base.beta, accessToken: token.accessToken });
      await expect(onBeta.v1.accounts.verifyCredentials()).rejects.toMatchObject({ statusCode: 401 });
      const onAlpha = createRestAPIClient({ url: bed.base.alpha, accessToken: token.accessToken });
      expect((await onAlpha.v1.accounts.verifyCredentials()).username).toBe('crossing');
    });
  });

  /** A user's token, through the authorize page, as an app gets one. */
  async function signedIn(slug: string, username: string, scopes = 'read write follow') {
    const person = await bed.account(slug, username);
    const anonymous = createRestAPIClient({ url: bed.base[slug] });
    const app = await anonymous.v1.apps.create({
      clientName: `${username}'s app`,
      redirectUris: REDIRECT,
      scopes,
    });
    const url = `${bed.base[slug]}/oauth/authorize?${new URLSearchParams({ client_id: app.clientId!, redirect_uri: REDIRECT, response_type: 'code', scope: scopes })}`;
    const code = await signInThroughAuthorizePage(url, person.email, person.password);
    const token = await createOAuthAPIClient({ url: bed.base[slug] }).token.create({
      grantType: 'authorization_code',
      clientId: app.clientId!,
      clientSecret: app.clientSecret!,
      redirectUri: REDIRECT,
      code,
    });
    return {
      ...person,
      token: token.accessToken,
      client: createRestAPIClient({ url: bed.base[slug], accessToken: token.accessToken }),
    };
  }

  describe('posting and reading (masto.js)', () => {
    it('posts, reads its status, pages through the home timeline by the Link header, and deletes for redrafting', async () => {
      const me = await signedIn('alpha', 'poster');
      const posted = [];
      for (let i = 0; i < 5; i++) {
        posted.push(
          await me.client.v1.statuses.create({
            status: `Statement ${i} #Budget`,
            visibility: 'public',
            language: 'en',
          }),
        );
      }
      expect(posted[0]).toMatchObject({
        content: expect.stringContaining('Statement 0'),
        visibility: 'public',
        language: 'en',
        account: { username: 'poster' },
        tags: [{ name: 'budget' }],
        application: { name: "poster's app" },
        favourited: false,
        reblogged: false,
      });
      expect((await me.client.v1.statuses.$select(posted[2].id).fetch()).id).toBe(posted[2].id);

      // Two at a time, following rel="next" as clients do.
      const seen: string[] = [];
      for await (const page of me.client.v1.timelines.home.list({ limit: 2 })) {
        seen.push(...page.map((s) => s.id));
        if (seen.length > 10) break;
      }
      expect(seen).toEqual(posted.map((s) => s.id).reverse());
      const local = await me.client.v1.timelines.public.list({ local: true, limit: 40 });
      expect(local.map((s) => s.id)).toEqual(expect.arrayContaining(posted.map((s) => s.id)));

      const deleted = await me.client.v1.statuses.$select(posted[4].id).remove();
      expect(deleted).toMatchObject({ id: posted[4].id, text: 'Statement 4 #Budget' });
      await expect(me.client.v1.statuses.$select(posted[4].id).fetch()).rejects.toMatchObject({
        statusCode: 404,
      });
      const mine = await me.client.v1.accounts.$select(me.id).statuses.list();
      expect(mine.map((s) => s.id)).toEqual(
        posted
          .slice(0, 4)
          .map((s) => s.id)
          .reverse(),
      );
    });

    it('posts with an image and its description, then edits the status and reads its history', async () => {
      const me = await signedIn('alpha', 'photographer');
      const media = await me.client.v2.media.create({
        file: new Blob([new Uint8Array(await pngImage())], { type: 'image/png' }),
        description: 'The new town hall, seen from the square',
      });
      expect(media).toMatchObject({
        type: 'image',
        description: 'The new town hall, seen from the square',
        url: expect.stringMatching(/^http:\/\/social\.alpha\.test:\d+\/system\/media\//),
      });
      const updated = await me.client.v1.media.$select(media.id).update({ focus: '0.0,0.5' });
      expect(updated.meta?.focus).toEqual({ x: 0, y: 0.5 });
      const status = await me.client.v1.statuses.create({ status: 'Opening day', mediaIds: [media.id] });
      expect(status.mediaAttachments).toEqual([
        expect.objectContaining({ id: media.id, description: 'The new town hall, seen from the square' }),
      ]);
      const image = await fetch(status.mediaAttachments[0].url!);
      expect(image.headers.get('content-type')).toBe('image/png');

      const edited = await me.client.v1.statuses.$select(status.id).update({
        status: 'Opening day, 10:00 on the square',
        mediaIds: [media.id],
        mediaAttributes: [{ id: media.id, description: 'The town hall and the square' }],
      });
      expect(edited).toMatchObject({
        content: expect.stringContaining('10:00 on the square'),
        editedAt: expect.any(String),
        mediaAttachments: [expect.objectContaining({ description: 'The town hall and the square' })],
      });
      const history = await me.client.v1.statuses.$select(status.id).history.list();
      expect(history.map((v) => v.mediaAttachments[0].description)).toEqual([
        'The new town hall, seen from the square',
        'The town hall and the square',
      ]);
      const source = await me.client.v1.statuses.$select(status.id).source.fetch();
      expect(source).toMatchObject({ text: 'Opening day, 10:00 on the square', spoilerText: '' });
    });

    it('keeps private and direct statuses from everyone not entitled, on every read path', async () => {
      const author = await signedIn('alpha', 'private_author');
      const stranger = await signedIn('alpha', 'stranger');
      const addressee = await signedIn('alpha', 'addressee');
      const privateStatus = await author.client.v1.statuses.create({
        status: 'Followers only about #quietharbour',
        visibility: 'private',
      });
      const direct = await author.client.v1.statuses.create({
        status: '@addressee a word in private about #quietharbour',
        visibility: 'direct',
      });
      // A public reply in each thread: its context must not give the private ancestor away.
      const replies = await Promise.all(
        [privateStatus, direct].map((parent) =>
          author.client.v1.statuses.create({
            status: 'A public word on #quietharbour',
            inReplyToId: parent.id,
          }),
        ),
      );
      for (const reply of replies) {
        const context = await stranger.client.v1.statuses.$select(reply.id).context.fetch();
        expect(context.ancestors).toEqual([]);
      }
      const searched = await stranger.client.v2.search.list({ q: 'quietharbour', type: 'statuses' });
      expect(searched.statuses.map((s) => s.id).sort()).toEqual(replies.map((r) => r.id).sort());
      const tagged = (await stranger.client.v1.timelines.tag.$select('quietharbour').list()).map((s) => s.id);
      expect(tagged.sort()).toEqual(replies.map((r) => r.id).sort());
      const strangerHome = (await stranger.client.v1.timelines.home.list()).map((s) => s.id);
      expect(strangerHome).not.toContain(privateStatus.id);
      expect(strangerHome).not.toContain(direct.id);
      // Those entitled find them by the same paths.
      const theirSearch = await addressee.client.v2.search.list({ q: 'quietharbour', type: 'statuses' });
      expect(theirSearch.statuses.map((s) => s.id)).toContain(direct.id);
      const theirContext = await addressee.client.v1.statuses.$select(replies[1].id).context.fetch();
      expect(theirContext.ancestors.map((s) => s.id)).toEqual([direct.id]);
      for (const id of [privateStatus.id, direct.id]) {
        await expect(stranger.client.v1.statuses.$select(id).fetch()).rejects.toMatchObject({
          statusCode: 404,
        });
        await expect(
          createRestAPIClient({ url: bed.base.alpha }).v1.statuses.$select(id).fetch(),
        ).rejects.toMatchObject({ statusCode: 404 });
      }
      const theirs = await stranger.client.v1.accounts.$select(author.id).statuses.list();
      expect(theirs.map((s) => s.id)).not.toEqual(expect.arrayContaining([privateStatus.id]));
      expect(theirs.map((s) => s.id)).not.toContain(direct.id);
      const publicIds = (await stranger.client.v1.timelines.public.list({ limit: 40 })).map((s) => s.id);
      expect(publicIds).not.toContain(privateStatus.id);
      expect(publicIds).not.toContain(direct.id);
      // The addressee sees the direct message, on its own and in home; the author sees both.
      expect((await addressee.client.v1.statuses.$select(direct.id).fetch()).visibility).toBe('direct');
      expect((await addressee.client.v1.timelines.home.list()).map((s) => s.id)).toContain(direct.id);
      expect((await author.client.v1.statuses.$select(privateStatus.id).fetch()).id).toBe(privateStatus.id);
    });

    it('answers a repeated Idempotency-Key with the same status, and refuses it with another body', async () => {
      const me = await signedIn('alpha', 'idempotent');
      const post = (status: string) =>
        fetch(`${bed.base.alpha}/api/v1/statuses`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${me.token}`,
            'content-type': 'application/json',
            'idempotency-key': 'press-release-42',
          },
          body: JSON.stringify({ status }),
        });
      const first = await post('Press release 42');
      const again = await post('Press release 42');
      expect(first.status).toBe(200);
      expect(again.status).toBe(200);
      expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
      const other = await post('Something else');
      expect(other.status).toBe(422);
      expect(await other.json()).toEqual({
        error: 'Idempotency-Key was already used for a different request',
      });
      expect((await me.client.v1.accounts.$select(me.id).statuses.list()).length).toBe(1);
    });

    it('refuses bad input with a clear error and writes nothing', async () => {
      const me = await signedIn('alpha', 'careless');
      const readOnly = await signedIn('alpha', 'reader', 'read');
      const post = (token: string, body: unknown) =>
        fetch(`${bed.base.alpha}/api/v1/statuses`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      for (const [body, status, error] of [
        [{ status: 'x'.repeat(501) }, 422, /character limit of 500/],
        [{ status: '   ' }, 422, /Text can't be blank/],
        [{ status: 'ok', visibility: 'secret' }, 400, /visibility/],
        [{ status: 'ok', sensitive: 'maybe' }, 400, /sensitive/],
        [{ status: 'ok', in_reply_to_id: '999999999' }, 404, /Record not found/],
        [{ status: 'ok', language: 'not a language' }, 422, /Language/],
      ] as const) {
        const res = await post(me.token, body);
        expect({ body, status: res.status }).toEqual({ body, status });
        expect(((await res.json()) as { error: string }).error).toMatch(error);
      }
      expect((await post(readOnly.token, { status: 'read-only tokens cannot post' })).status).toBe(403);
      const home = await fetch(`${bed.base.alpha}/api/v1/timelines/home?max_id=abc`, {
        headers: { authorization: `Bearer ${me.token}` },
      });
      expect(home.status).toBe(400);
      expect((await me.client.v1.accounts.$select(me.id).statuses.list()).length).toBe(0);
    });

    it('follows another account and sees its posts in home; favourites, reblogs, replies, reads the context and notifications', async () => {
      const agency = await signedIn('alpha', 'agency');
      const citizen = await signedIn('alpha', 'citizen');
      const before = await agency.client.v1.statuses.create({ status: 'Posted before the follow' });
      const relationship = await citizen.client.v1.accounts.$select(agency.id).follow();
      expect(relationship).toMatchObject({ following: true, followedBy: false, requested: false });
      const [seen] = await citizen.client.v1.accounts.relationships.fetch({ id: [agency.id] });
      expect(seen.following).toBe(true);
      const after = await agency.client.v1.statuses.create({ status: 'Posted after the follow' });
      const home = (await citizen.client.v1.timelines.home.list()).map((s) => s.id);
      expect(home).toEqual(expect.arrayContaining([before.id, after.id]));
      expect((await agency.client.v1.accounts.$select(agency.id).followers.list()).map((a) => a.id)).toEqual([
        citizen.id,
      ]);

      const favourited = await citizen.client.v1.statuses.$select(after.id).favourite();
      expect(favourited).toMatchObject({ favourited: true, favouritesCount: 1 });
      const reblog = await citizen.client.v1.statuses.$select(after.id).reblog();
      expect(reblog.reblog).toMatchObject({ id: after.id, reblogged: true, reblogsCount: 1 });
      const reply = await citizen.client.v1.statuses.create({
        status: `@agency Thank you`,
        inReplyToId: after.id,
      });
      expect(reply).toMatchObject({ inReplyToId: after.id, inReplyToAccountId: agency.id });
      const context = await agency.client.v1.statuses.$select(reply.id).context.fetch();
      expect(context.ancestors.map((s) => s.id)).toEqual([after.id]);
      const thread = await agency.client.v1.statuses.$select(after.id).context.fetch();
      expect(thread.descendants.map((s) => s.id)).toEqual([reply.id]);

      const notifications = await agency.client.v1.notifications.list();
      expect(notifications.map((n) => n.type).sort()).toEqual(['favourite', 'follow', 'mention', 'reblog']);
      const mention = notifications.find((n) => n.type === 'mention')!;
      expect(mention).toMatchObject({ account: { id: citizen.id }, status: { id: reply.id } });
      expect((await agency.client.v1.notifications.list({ types: ['mention'] })).length).toBe(1);
      await agency.client.v1.notifications.$select(mention.id).dismiss();
      expect((await agency.client.v1.notifications.list()).length).toBe(3);
      await agency.client.v1.notifications.clear();
      expect(await agency.client.v1.notifications.list()).toEqual([]);

      await citizen.client.v1.statuses.$select(after.id).unfavourite();
      await citizen.client.v1.statuses.$select(after.id).unreblog();
      expect(await citizen.client.v1.statuses.$select(after.id).fetch()).toMatchObject({
        favourited: false,
        reblogged: false,
        favouritesCount: 0,
        reblogsCount: 0,
      });
      await citizen.client.v1.accounts.$select(agency.id).unfollow();
      expect((await citizen.client.v1.timelines.home.list()).map((s) => s.id)).not.toContain(after.id);
    });

    it('shows a followers-only status to followers and nobody else, and blocks hide everything', async () => {
      const author = await signedIn('alpha', 'followers_author');
      const follower = await signedIn('alpha', 'the_follower');
      const other = await signedIn('alpha', 'not_a_follower');
      await follower.client.v1.accounts.$select(author.id).follow();
      const status = await author.client.v1.statuses.create({
        status: 'For followers',
        visibility: 'private',
      });
      expect((await follower.client.v1.statuses.$select(status.id).fetch()).id).toBe(status.id);
      expect((await follower.client.v1.timelines.home.list()).map((s) => s.id)).toContain(status.id);
      await expect(other.client.v1.statuses.$select(status.id).fetch()).rejects.toMatchObject({
        statusCode: 404,
      });
      const publicOne = await author.client.v1.statuses.create({ status: 'For everyone' });
      await author.client.v1.accounts.$select(other.id).block();
      await expect(other.client.v1.statuses.$select(publicOne.id).fetch()).rejects.toMatchObject({
        statusCode: 404,
      });
      expect((await other.client.v1.timelines.public.list({ limit: 40 })).map((s) => s.id)).not.toContain(
        publicOne.id,
      );
      await expect(other.client.v1.accounts.$select(author.id).follow()).rejects.toMatchObject({
        statusCode: 404,
      });
    });

    it('answers what apps call at start-up with real data or Mastodon’s empty answer, never a 404', async () => {
      const me = await signedIn('alpha', 'starting_app');
      const other = await signedIn('alpha', 'someone_else');
      const post = await other.client.v1.statuses.create({ status: 'Worth keeping' });
      await me.client.v1.statuses.$select(post.id).favourite();
      await me.client.v1.statuses.$select(post.id).bookmark();
      await me.client.v1.accounts.$select(other.id).mute();
      expect((await me.client.v1.favourites.list()).map((s) => s.id)).toEqual([post.id]);
      expect((await me.client.v1.bookmarks.list()).map((s) => s.id)).toEqual([post.id]);
      expect((await me.client.v1.mutes.list()).map((a) => a.id)).toEqual([other.id]);
      expect(await me.client.v1.blocks.list()).toEqual([]);
      expect(await me.client.v1.customEmojis.list()).toEqual([]);
      expect(await me.client.v1.announcements.list()).toEqual([]);
      expect(await me.client.v1.lists.list()).toEqual([]);
      expect(await me.client.v2.filters.list()).toEqual([]);
      expect(await me.client.v1.followedTags.list()).toEqual([]);
      expect(await me.client.v1.trends.tags.list()).toEqual([]);
      expect(await me.client.v1.followRequests.list()).toEqual([]);
      expect(await me.client.v1.preferences.fetch()).toMatchObject({
        'posting:default:visibility': 'public',
      });
      const saved = await me.client.v1.markers.create({ home: { lastReadId: post.id } });
      expect(saved.home).toMatchObject({ lastReadId: post.id, version: 0 });
      const again = await me.client.v1.markers.create({ home: { lastReadId: post.id } });
      expect(again.home?.version).toBe(1);
      expect(
        (await me.client.v1.markers.fetch({ timeline: ['home', 'notifications'] })).home?.lastReadId,
      ).toBe(post.id);
      // Twelve weeks of activity, this week first, with what this file did in it.
      const weeks = await me.client.v1.instance.activity.list();
      expect(weeks).toHaveLength(12);
      const monday = new Date();
      monday.setUTCHours(0, 0, 0, 0);
      monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
      expect(weeks[0].week).toBe(String(monday.getTime() / 1000));
      expect(Number(weeks[1].week)).toBe(monday.getTime() / 1000 - 7 * 86_400);
      expect(Number(weeks[0].statuses)).toBeGreaterThanOrEqual(1);
      expect(Number(weeks[0].logins)).toBeGreaterThanOrEqual(2);
      expect(Number(weeks[0].registrations)).toBeGreaterThanOrEqual(2);
      expect(weeks.slice(1).every((w) => w.statuses === '0' && w.registrations === '0')).toBe(true);
    });

    it('gives 404 for another tenant’s statuses and accounts', async () => {
      const onAlpha = await signedIn('alpha', 'alpha_poster');
      const onBeta = await signedIn('beta', 'beta_reader');
      const status = await onAlpha.client.v1.statuses.create({ status: 'Only on alpha' });
      await expect(onBeta.client.v1.statuses.$select(status.id).fetch()).rejects.toMatchObject({
        statusCode: 404,
      });
      await expect(onBeta.client.v1.accounts.$select(onAlpha.id).fetch()).rejects.toMatchObject({
        statusCode: 404,
      });
    });
  });

  describe('megalodon', () => {
    it('registers an app, signs in through its authorization URL, exchanges the code and verifies credentials', async () => {
      const person = await bed.account('alpha', 'megalodon_user');
      const anonymous = generator('mastodon', bed.base.alpha);
      const app = await anonymous.registerApp('megalodon test', {
        scopes: ['read', 'write', 'follow'],
        redirect_uris: REDIRECT,
      });
      expect(app.url).toMatch(/\/oauth\/authorize\?/);
      const code = await signInThroughAuthorizePage(app.url!, person.email, person.password);
      const token = await anonymous.fetchAccessToken(app.client_id, app.client_secret, code, REDIRECT);
      expect(token.access_token).toEqual(expect.any(String));
      const client = generator('mastodon', bed.base.alpha, token.access_token);
      const me = await client.verifyAccountCredentials();
      expect(me.data).toMatchObject({ username: 'megalodon_user', acct: 'megalodon_user' });

      const posted = await client.postStatus('Posted through megalodon', { visibility: 'unlisted' });
      expect(posted.data).toMatchObject({
        visibility: 'unlisted',
        content: '<p>Posted through megalodon</p>',
      });
      const home = await client.getHomeTimeline({ limit: 5 });
      expect(home.data.map((s) => s.id)).toContain((posted.data as { id: string }).id);
      const fetched = await client.getStatus((posted.data as { id: string }).id);
      expect(fetched.data.account.username).toBe('megalodon_user');
      const deleted = await client.deleteStatus((posted.data as { id: string }).id);
      expect(deleted.status).toBe(200);

      // An image with a description, a status with it, an edit of both.
      const uploaded = await client.uploadMedia(
        // megalodon sends files as streams, as its documentation shows: from a file on disk.
        createReadStream(await writeTemporary('room.png', await pngImage())),
        { description: 'Press conference room' },
      );
      expect(uploaded.data).toMatchObject({ type: 'image', description: 'Press conference room' });
      const mediaId = (uploaded.data as { id: string }).id;
      const withMedia = await client.postStatus('Press conference at noon', { media_ids: [mediaId] });
      const withMediaId = (withMedia.data as { id: string }).id;
      expect(
        (withMedia.data as { media_attachments: { id: string }[] }).media_attachments.map((a) => a.id),
      ).toEqual([mediaId]);
      const edited = await client.editStatus(withMediaId, {
        status: 'Press conference at 13:00',
        media_ids: [mediaId],
      });
      expect(edited.data).toMatchObject({
        content: '<p>Press conference at 13:00</p>',
        edited_at: expect.any(String),
      });
      const source = await client.getStatusSource(withMediaId);
      expect(source.data).toMatchObject({ id: withMediaId, text: 'Press conference at 13:00' });

      // Follow, favourite, reply and notifications, as megalodon calls them.
      const other = await signedIn('alpha', 'megalodon_friend');
      const friendPost = await other.client.v1.statuses.create({ status: 'Hello megalodon' });
      const followed = await client.followAccount(other.id);
      expect(followed.data).toMatchObject({ following: true });
      expect((await client.getHomeTimeline()).data.map((s) => s.id)).toContain(friendPost.id);
      expect((await client.favouriteStatus(friendPost.id)).data).toMatchObject({ favourited: true });
      const reply = await client.postStatus('@megalodon_friend likewise', { in_reply_to_id: friendPost.id });
      const context = await client.getStatusContext(friendPost.id);
      expect(context.data.descendants.map((s) => s.id)).toEqual([(reply.data as { id: string }).id]);
      const notified = await other.client.v1.notifications.list();
      expect(notified.map((n) => n.type).sort()).toEqual(['favourite', 'follow', 'mention']);
      const own = await client.getNotifications();
      expect(own.data).toEqual([]);
    });
  });
});
