import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { waitFor } from '../support/wait';
import { type ClientTestbed, startClientTestbed } from './client-support';
import { PUBLIC_TEXT, type PublicFixture, seedPublicFixture } from './public-pages-support';

/**
 * The tenant's public web pages over HTTP, as a reader without an account gets them: what each page may
 * show (private, direct and suspended content never; unlisted only on its own page), the language by
 * Accept-Language, the headers a CDN caches by, RSS that parses, the redirect for ActivityPub clients,
 * and a suspended tenant's 503. CORS for browser clients of the API is tested here too.
 */
describe('public pages', () => {
  let bed: ClientTestbed;
  let f: PublicFixture;

  const page = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${f.base}${path}`, { headers, redirect: 'manual' });
    const text = await res.text();
    // The markup with its formatting folded: one space for any run of white space, `<x … />` as `<x …>`.
    const flat = text.replace(/\s+/g, ' ').replace(/\s*\/?>/g, '>');
    return { status: res.status, headers: res.headers, text, flat };
  };

  beforeAll(async () => {
    bed = await startClientTestbed([
      {
        slug: 'pages',
        domain: 'social.pages.test',
        displayName: 'Water Authority',
        adminEmail: 'a@pages.example',
      },
      {
        slug: 'closed',
        domain: 'social.closed.test',
        displayName: 'Closed Office',
        adminEmail: 'a@closed.example',
      },
    ]);
    f = await seedPublicFixture(bed, 'pages', 'social.pages.test');
  });

  afterAll(async () => {
    await bed?.close();
  });

  describe('what each page shows', () => {
    it('a profile lists public posts only: no unlisted, private or direct ones', async () => {
      const res = await page('/@ministry');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.text).toContain('Ministry of Water');
      expect(res.text).toContain(PUBLIC_TEXT.publicPost.replace(' #floods', ''));
      expect(res.text).toContain(`href="${f.base}/@ministry/${f.ids.publicPost}"`);
      expect(res.text).not.toContain(PUBLIC_TEXT.unlisted.slice(0, 20));
      expect(res.text).not.toContain(PUBLIC_TEXT.privatePost.slice(0, 20));
      expect(res.text).not.toContain('the direct message');
      expect(res.text).not.toContain(f.ids.privatePost);
      expect(res.text).not.toContain(f.ids.direct);
    });

    it('a status page shows the status, its image with its description as alt text, and public replies', async () => {
      const res = await page(`/@ministry/${f.ids.publicPost}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('Flood warning for the river valley');
      expect(res.flat).toMatch(
        new RegExp(`<img src="[^"]+/system/media/[^"]+" alt="${PUBLIC_TEXT.imageDescription}"`),
      );
      expect(res.text).toContain(PUBLIC_TEXT.publicReply);
      expect(res.text).not.toContain(PUBLIC_TEXT.privateReply);
      // The image may be embedded by pages and clients on other origins.
      const src = /<img src="([^"]+)"/.exec(res.flat)![1];
      const image = await fetch(src, { headers: { origin: 'http://client.example' } });
      expect(image.status).toBe(200);
      expect(image.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    });

    it('an unlisted status has its own page, and is on no list: profile, tag page, feeds', async () => {
      const own = await page(`/@ministry/${f.ids.unlisted}`);
      expect(own.status).toBe(200);
      expect(own.text).toContain('Unlisted note about the');
      for (const path of ['/@ministry', '/tags/floods', '/@ministry.rss', '/tags/floods.rss']) {
        const list = await page(path);
        expect({ path, status: list.status }).toEqual({ path, status: 200 });
        expect({ path, shows: list.text.includes('Unlisted note') }).toEqual({ path, shows: false });
        expect({ path, links: list.text.includes(f.ids.unlisted) }).toEqual({ path, links: false });
      }
    });

    it('private and direct statuses have no page: 404, with nothing of them in it', async () => {
      for (const id of [f.ids.privatePost, f.ids.direct]) {
        const res = await page(`/@ministry/${id}`);
        expect(res.status).toBe(404);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.text).not.toMatch(/Followers-only|direct message/);
      }
      const reply = await page(`/@citizen/${f.ids.privateReply}`);
      expect(reply.status).toBe(404);
    });

    it('a status is only at its own author’s address', async () => {
      expect((await page(`/@citizen/${f.ids.publicPost}`)).status).toBe(404);
      expect((await page(`/@ministry/${f.ids.publicReply}`)).status).toBe(404);
      expect((await page(`/@citizen/${f.ids.publicReply}`)).status).toBe(200);
    });

    it('a suspended account’s profile, statuses and replies are shown nowhere', async () => {
      expect((await page('/@spammer')).status).toBe(404);
      expect((await page('/@spammer.rss')).status).toBe(404);
      expect((await page(`/@spammer/${f.ids.suspendedReply}`)).status).toBe(404);
      const thread = await page(`/@ministry/${f.ids.publicPost}`);
      expect(thread.text).toContain(PUBLIC_TEXT.publicReply);
      expect(thread.text).not.toContain('Spam reply');
      const tag = await page('/tags/floods');
      expect(tag.text).toContain('Flood warning');
      expect(tag.text).not.toContain('Spam reply');
    });

    it('a hashtag page lists public statuses with the tag, any case', async () => {
      const res = await page('/tags/Floods');
      expect(res.status).toBe(200);
      expect(res.text).toContain('<h1>Posts tagged #Floods</h1>');
      expect(res.text).toContain(`/@ministry/${f.ids.publicPost}`);
      expect(res.text).not.toContain('Followers-only');
      expect((await page('/tags/no-such-tag!')).status).toBe(404);
    });

    it('puts a content warning before what it warns about, which opens without script', async () => {
      const res = await page(`/@citizen/${f.ids.warned}`);
      expect(res.flat).toMatch(
        new RegExp(
          `<details> <summary>Content warning: ${PUBLIC_TEXT.warning}</summary> <p>${PUBLIC_TEXT.warned}</p>`,
        ),
      );
      expect(res.flat).toContain(`<meta property="og:description" content="${PUBLIC_TEXT.warning}">`);
    });

    it('escapes what people wrote: their markup is text', async () => {
      const res = await page(`/@ministry/${f.ids.escaped}`);
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('<script>alert');
      expect(res.text).not.toContain('<b>bold</b>');
      expect(res.text).toContain(
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;',
      );
      expect(res.text).not.toMatch(/<script/i);
    });

    it('home and about name the organisation and its official accounts', async () => {
      for (const path of ['/', '/about']) {
        const res = await page(path);
        expect(res.status).toBe(200);
        expect(res.text).toContain('Water Authority');
        expect(res.text).toContain(`<a href="${f.base}/@ministry">Ministry of Water</a>`);
        // A person's account is not an official one.
        expect(res.text).not.toContain('/@citizen');
      }
      expect((await page('/about')).text).toMatch(/<h2>Rules<\/h2>[\s\S]*<h2>Contact<\/h2>/);
    });

    it('paginates a profile with links to older posts', async () => {
      const older = await page(`/@ministry?max_id=${f.ids.escaped}`);
      expect(older.status).toBe(200);
      expect(older.text).toContain('Flood warning');
      expect(older.text).not.toContain('Markup stays text');
      expect(older.text).toContain(`?min_id=${f.ids.publicPost}`);
    });
  });

  describe('page metadata', () => {
    it('links the ActivityPub documents and carries OpenGraph and Twitter card tags', async () => {
      const profile = await page('/@ministry');
      expect(profile.flat).toContain(
        `<link rel="alternate" type="application/activity+json" href="${f.base}/users/ministry">`,
      );
      expect(profile.flat).toContain('<meta property="og:type" content="profile">');
      expect(profile.flat).toContain(
        '<meta property="og:title" content="Ministry of Water (@ministry@social.pages.test)">',
      );
      expect(profile.flat).toContain(`<meta property="og:url" content="${f.base}/@ministry">`);
      expect(profile.flat).toContain('<meta name="twitter:card" content="summary">');
      expect(profile.flat).toContain(
        `<link rel="alternate" type="application/rss+xml" href="${f.base}/@ministry.rss"`,
      );

      const status = await page(`/@ministry/${f.ids.publicPost}`);
      expect(status.flat).toContain(
        `<link rel="alternate" type="application/activity+json" href="${f.base}/users/ministry/statuses/${f.ids.publicPost}">`,
      );
      expect(status.flat).toContain('<meta property="og:type" content="article">');
      expect(status.flat).toContain('<meta name="twitter:card" content="summary_large_image">');
      expect(status.flat).toContain(
        `<meta property="og:image:alt" content="${PUBLIC_TEXT.imageDescription}">`,
      );
      expect(status.flat).toContain(
        '<meta property="og:description" content="Flood warning for the river valley #floods">',
      );
    });

    it('sends ActivityPub clients to the actor and note documents at /users/*', async () => {
      for (const accept of [
        'application/activity+json',
        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
      ]) {
        const profile = await page('/@ministry', { accept });
        expect(profile.status).toBe(302);
        expect(profile.headers.get('location')).toBe(`${f.base}/users/ministry`);
        expect(profile.headers.get('vary')).toMatch(/Accept/);
        const status = await page(`/@ministry/${f.ids.publicPost}`, { accept });
        expect(status.status).toBe(302);
        expect(status.headers.get('location')).toBe(`${f.base}/users/ministry/statuses/${f.ids.publicPost}`);
      }
      // Nothing is revealed about what the anonymous reader may not see.
      expect(
        (await page(`/@ministry/${f.ids.privatePost}`, { accept: 'application/activity+json' })).status,
      ).toBe(404);
      expect((await page('/@ministry', { accept: 'text/html,application/xhtml+xml' })).status).toBe(200);
    });

    it('lets a CDN cache pages, per language and per representation', async () => {
      for (const path of ['/', '/about', '/@ministry', `/@ministry/${f.ids.publicPost}`, '/tags/floods']) {
        const res = await page(path);
        expect({ path, cache: res.headers.get('cache-control') }).toEqual({
          path,
          cache: 'public, max-age=15, stale-while-revalidate=30, stale-if-error=3600',
        });
        expect(res.headers.get('vary')).toBe('Accept, Accept-Language');
        expect(res.headers.get('set-cookie')).toBeNull();
        expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; style-src 'sha256-/);
      }
      expect((await page('/@ministry.rss')).headers.get('cache-control')).toBe('public, max-age=60');
    });
  });

  describe('languages', () => {
    const lang = (text: string) => /<html lang="([^"]+)">/.exec(text)?.[1];

    it.each([
      ['de-DE,de;q=0.9,en;q=0.5', 'de', 'Beiträge'],
      ['fr-CH, fr;q=0.9', 'fr', 'Publications'],
      ['nl', 'nl', 'Berichten'],
      ['en-GB', 'en', 'Posts'],
      ['ja, ko;q=0.8', 'en', 'Posts'],
      ['de;q=0.2, nl;q=0.8', 'nl', 'Berichten'],
      ['', 'en', 'Posts'],
    ])('Accept-Language %p gives a page in %s', async (header, expected, word) => {
      const res = await page('/@ministry', header ? { 'accept-language': header } : {});
      expect(lang(res.text)).toBe(expected);
      expect(res.headers.get('content-language')).toBe(expected);
      expect(res.text).toContain(`<h2>${word}</h2>`);
    });

    it('marks each status with its own language', async () => {
      const res = await page(`/@ministry/${f.ids.publicPost}`, { 'accept-language': 'de' });
      expect(res.flat).toMatch(/<article class="status focal" lang="en">/);
      expect(res.text).toContain('Beitrag von Ministry of Water');
    });
  });

  describe('RSS', () => {
    const parse = (xml: string) => {
      expect(XMLValidator.validate(xml)).toBe(true);
      return new XMLParser({ ignoreAttributes: false }).parse(xml) as {
        rss: { '@_version': string; channel: { title: string; link: string; item: unknown } };
      };
    };
    const items = (channel: { item: unknown }) =>
      (Array.isArray(channel.item) ? channel.item : channel.item ? [channel.item] : []) as {
        link: string;
        description: string;
        category?: string | string[];
        'media:content'?: { '@_url': string; 'media:description': { '#text': string } };
      }[];

    it('an account’s feed is well-formed RSS 2.0 of its public posts, newest first', async () => {
      const res = await page('/@ministry.rss');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
      const feed = parse(res.text);
      expect(feed.rss['@_version']).toBe('2.0');
      expect(feed.rss.channel.title).toBe('Ministry of Water (@ministry@social.pages.test)');
      expect(feed.rss.channel.link).toBe(`${f.base}/@ministry`);
      const list = items(feed.rss.channel);
      expect(list.map((i) => i.link)).toEqual([
        `${f.base}/@ministry/${f.ids.escaped}`,
        `${f.base}/@ministry/${f.ids.publicPost}`,
      ]);
      // The status's HTML travels escaped in the XML and comes back as the same HTML.
      expect(list[0].description).toContain('&lt;script&gt;');
      expect(list[1]['media:content']?.['media:description']['#text']).toBe(PUBLIC_TEXT.imageDescription);
      expect(list[1].category).toBe('floods');
    });

    it('a hashtag’s feed lists the tag’s public local statuses', async () => {
      const feed = parse((await page('/tags/floods.rss')).text);
      expect(items(feed.rss.channel).map((i) => i.link)).toEqual([`${f.base}/@ministry/${f.ids.publicPost}`]);
    });
  });

  describe('a suspended tenant', () => {
    it('answers 503 on every public page', async () => {
      const closed = bed.base.closed;
      expect((await fetch(`${closed}/@anyone`)).status).toBe(404);
      await bed.provisioner.lifecycle.suspend(bed.tenants.closed.id);
      for (const path of ['/', '/about', '/@anyone', '/tags/floods', '/@anyone.rss']) {
        await waitFor(async () => (await fetch(`${closed}${path}`)).status === 503, {
          timeoutMs: 10_000,
          what: `${path} answers 503`,
        });
      }
    });
  });

  describe('CORS for web clients on other origins', () => {
    const origin = 'http://client.example';

    it('answers a preflight for the API without a token and without counting it against the rate limit', async () => {
      const res = await fetch(`${f.base}/api/v1/timelines/home`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization, idempotency-key',
        },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toBe('POST, PUT, DELETE, GET, PATCH, OPTIONS');
      expect(res.headers.get('access-control-allow-headers')).toBe('authorization, idempotency-key');
      expect(res.headers.get('access-control-max-age')).toBe('7200');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      // The tenant's rate limit did not see it.
      expect(res.headers.get('x-ratelimit-remaining')).toBeNull();
    });

    it('lets a script read API answers and the headers Mastodon exposes, errors included', async () => {
      const ok = await fetch(`${f.base}/api/v1/timelines/home`, {
        headers: { origin, authorization: `Bearer ${f.token}` },
      });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe('*');
      expect(ok.headers.get('access-control-expose-headers')).toBe(
        'Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id',
      );
      expect(ok.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      const refused = await fetch(`${f.base}/api/v1/timelines/home`, { headers: { origin } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    });

    it('opens the OAuth token endpoints for POST and the profile address for GET, and nothing else', async () => {
      const preflight = (path: string, method: string) =>
        fetch(`${f.base}${path}`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': method },
        });
      for (const path of ['/oauth/token', '/oauth/revoke']) {
        const res = await preflight(path, 'POST');
        expect(res.headers.get('access-control-allow-methods')).toBe('POST');
        expect((await preflight(path, 'DELETE')).headers.get('access-control-allow-origin')).toBeNull();
      }
      expect((await preflight('/@ministry', 'GET')).headers.get('access-control-allow-origin')).toBe('*');
      expect(
        (await preflight('/.well-known/nodeinfo', 'GET')).headers.get('access-control-allow-origin'),
      ).toBe('*');
      // The sign-in page and the status pages are not for scripts on other origins.
      expect(
        (await preflight('/oauth/authorize', 'POST')).headers.get('access-control-allow-origin'),
      ).toBeNull();
      const statusPage = await fetch(`${f.base}/@ministry/${f.ids.publicPost}`, { headers: { origin } });
      expect(statusPage.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('keeps the platform’s own APIs closed to other origins', async () => {
      const res = await fetch(`http://127.0.0.1:${new URL(f.base).port}/api/platform/v1/tenants`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});
