import { createOAuthAPIClient, createRestAPIClient } from 'masto';
import generator from 'megalodon';
import { ClientTestbed, signInThroughAuthorizePage, startClientTestbed } from './client-support';

const REDIRECT = 'http://client.test/callback';

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
    });
  });
});
