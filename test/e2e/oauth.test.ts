import { createHash, randomBytes } from 'node:crypto';
import { ClientTestbed, signInThroughAuthorizePage, startClientTestbed } from './client-support';

const REDIRECT = 'https://client.test/callback';

/** OAuth 2.0 as Mastodon does it, and every way a request can go wrong, over real HTTP. */
describe('OAuth on a tenant (real HTTP, PostgreSQL and Redis)', () => {
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

  async function registerApp(scopes = 'read write follow') {
    const res = await fetch(`${base}/api/v1/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'OAuth test',
        redirect_uris: [REDIRECT, 'urn:ietf:wg:oauth:2.0:oob'],
        scopes,
      }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { client_id: string; client_secret: string; id: string };
  }

  const authorizeUrl = (params: Record<string, string>) =>
    `${base}/oauth/authorize?${new URLSearchParams({ response_type: 'code', redirect_uri: REDIRECT, ...params })}`;

  async function token(body: Record<string, string>) {
    const res = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  const verify = (accessToken: string) =>
    fetch(`${base}/api/v1/accounts/verify_credentials`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });

  it('completes the code flow with PKCE (S256), and refuses the code twice and a wrong verifier', async () => {
    const person = await bed.account('alpha', 'pkce_user');
    const app = await registerApp();
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const code = await signInThroughAuthorizePage(
      authorizeUrl({
        client_id: app.client_id,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        scope: 'read',
      }),
      person.email,
      person.password,
    );
    const wrong = await token({
      grant_type: 'authorization_code',
      code,
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      code_verifier: randomBytes(32).toString('base64url'),
    });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // A failed exchange does not burn a code that was not exchanged… but one exchange is all it gets.
    const fresh = await signInThroughAuthorizePage(
      authorizeUrl({
        client_id: app.client_id,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        scope: 'read',
      }),
      person.email,
      person.password,
    );
    const exchange = {
      grant_type: 'authorization_code',
      code: fresh,
      client_id: app.client_id,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    };
    const first = await token(exchange);
    expect(first).toMatchObject({ status: 200, body: { token_type: 'Bearer', scope: 'read' } });
    expect(await token(exchange)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await verify(first.body.access_token)).status).toBe(200);
  });

  it('issues application tokens (client credentials) and rotates refresh tokens', async () => {
    const person = await bed.account('alpha', 'refresh_user');
    const app = await registerApp();
    const appToken = await token({
      grant_type: 'client_credentials',
      client_id: app.client_id,
      client_secret: app.client_secret,
      scope: 'read',
    });
    expect(appToken.status).toBe(200);
    // An application's token is no user's.
    const res = await verify(appToken.body.access_token);
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ error: 'This method requires an authenticated user' });

    const code = await signInThroughAuthorizePage(
      authorizeUrl({ client_id: app.client_id }),
      person.email,
      person.password,
    );
    const issued = await token({
      grant_type: 'authorization_code',
      code,
      client_id: app.client_id,
      client_secret: app.client_secret,
      redirect_uri: REDIRECT,
    });
    const refreshed = await token({
      grant_type: 'refresh_token',
      refresh_token: issued.body.refresh_token,
      client_id: app.client_id,
      client_secret: app.client_secret,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(issued.body.access_token);
    expect((await verify(refreshed.body.access_token)).status).toBe(200);
    // The old pair is gone, at once, and its refresh token works once only.
    expect((await verify(issued.body.access_token)).status).toBe(401);
    expect(
      await token({
        grant_type: 'refresh_token',
        refresh_token: issued.body.refresh_token,
        client_id: app.client_id,
        client_secret: app.client_secret,
      }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('enforces scopes: a token without read:accounts cannot read the account', async () => {
    const person = await bed.account('alpha', 'scoped_user');
    const app = await registerApp('read write');
    const code = await signInThroughAuthorizePage(
      authorizeUrl({ client_id: app.client_id, scope: 'write' }),
      person.email,
      person.password,
    );
    const issued = await token({
      grant_type: 'authorization_code',
      code,
      client_id: app.client_id,
      client_secret: app.client_secret,
      redirect_uri: REDIRECT,
    });
    expect(issued.body.scope).toBe('write');
    const res = await verify(issued.body.access_token);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'This action is outside the authorized scopes' });
  });

  it('refuses a scope the application did not register, back at the client', async () => {
    const app = await registerApp('read');
    const res = await fetch(authorizeUrl({ client_id: app.client_id, scope: 'read write', state: 'xyz' }), {
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'invalid_scope', state: 'xyz' });
  });

  it('shows an error page, and sends nothing anywhere, for an unknown client or a redirect URI it did not register', async () => {
    const app = await registerApp();
    for (const url of [
      authorizeUrl({ client_id: 'no-such-client' }),
      `${base}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: 'https://evil.test/steal' })}`,
    ]) {
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('location')).toBeNull();
    }
  });

  it('answers a wrong password on the page, refuses a form without its CSRF token, and sends access_denied on deny', async () => {
    const person = await bed.account('alpha', 'form_user');
    const app = await registerApp();
    const page = await fetch(authorizeUrl({ client_id: app.client_id, state: 's1' }));
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
    const html = await page.text();
    expect(html).toMatch(/<label for="login">/);
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
        m[1],
        m[2].replace(/&amp;/g, '&'),
      ]),
    );
    const post = (extra: Record<string, string>, withCookie = true) =>
      fetch(`${base}/oauth/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(withCookie ? { cookie } : {}) },
        body: new URLSearchParams({ ...fields, ...extra }),
        redirect: 'manual',
      });
    const wrong = await post({ login: person.email, password: 'not-the-password', decision: 'authorize' });
    expect(wrong.status).toBe(422);
    expect(await wrong.text()).toMatch(/Invalid e-mail address or password/);
    const forged = await post(
      { login: person.email, password: person.password, decision: 'authorize' },
      false,
    );
    expect(forged.status).toBe(422);
    expect(forged.headers.get('location')).toBeNull();
    const denied = await post({ decision: 'deny' });
    expect(denied.status).toBe(302);
    expect(Object.fromEntries(new URL(denied.headers.get('location')!).searchParams)).toMatchObject({
      error: 'access_denied',
      state: 's1',
    });
  });

  it('shows the code on a page for the out-of-band redirect', async () => {
    const person = await bed.account('alpha', 'oob_user');
    const app = await registerApp();
    const page = await fetch(
      `${base}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: 'urn:ietf:wg:oauth:2.0:oob' })}`,
    );
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
    const html = await page.text();
    const fields = Object.fromEntries(
      [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
    );
    const res = await fetch(`${base}/oauth/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: new URLSearchParams({
        ...fields,
        login: person.email,
        password: person.password,
        decision: 'authorize',
      }),
    });
    expect(res.status).toBe(200);
    const code = /<code id="code">([^<]+)<\/code>/.exec(await res.text())![1];
    const issued = await token({
      grant_type: 'authorization_code',
      code,
      client_id: app.client_id,
      client_secret: app.client_secret,
      redirect_uri: 'urn:ietf:wg:oauth:2.0:oob',
    });
    expect(issued.status).toBe(200);
  });

  it('limits failed sign-ins per account', async () => {
    const person = await bed.account('alpha', 'guessed_user');
    const app = await registerApp();
    let last = 0;
    for (let i = 0; i < 12; i++) {
      const page = await fetch(authorizeUrl({ client_id: app.client_id }));
      const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
      const html = await page.text();
      const fields = Object.fromEntries(
        [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
      );
      const res = await fetch(`${base}/oauth/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({
          ...fields,
          login: person.email,
          password: `guess-${i}`,
          decision: 'authorize',
        }),
        redirect: 'manual',
      });
      last = res.status;
    }
    expect(last).toBe(429);
    // Even the right password is not checked now.
    await expect(
      signInThroughAuthorizePage(authorizeUrl({ client_id: app.client_id }), person.email, person.password),
    ).rejects.toThrow(/429/);
  });

  it('registers apps from form bodies with redirect_uris[] and refuses an invalid redirect URI with 422', async () => {
    const form = await fetch(`${base}/api/v1/apps`, {
      method: 'POST',
      body: new URLSearchParams([
        ['client_name', 'Form app'],
        ['redirect_uris[]', 'https://a.test/cb'],
        ['redirect_uris[]', 'https://b.test/cb'],
        ['scopes', 'read write'],
      ]),
    });
    expect(form.status).toBe(200);
    expect(await form.json()).toMatchObject({
      redirect_uris: ['https://a.test/cb', 'https://b.test/cb'],
      scopes: ['read', 'write'],
    });
    const bad = await fetch(`${base}/api/v1/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Bad', redirect_uris: 'javascript:alert(1)' }),
    });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual({ error: expect.stringMatching(/^Validation failed: Redirect URI/) });
  });
});
