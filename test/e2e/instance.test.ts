import { DataSource } from 'typeorm';
import { insertLocalAccount, insertUser } from '@townhall/social';
import { runInTenantSchema, tenantRef } from '@townhall/tenancy';
import { InstanceAppModule } from '../../apps/instance/src/instance-app.module';
import { mountInstanceOpenApi } from '../../apps/instance/src/openapi';
import { expectMastodonError, FOUR_TENANTS, startTenantApp, TenantApp } from './instance-support';

describe('instance app: /api/v1/instance and /api/v2/instance (real PostgreSQL and Redis, over HTTP)', () => {
  let instance: TenantApp;

  const get = (path: string, host: string) => instance.get(path, host);

  beforeAll(async () => {
    instance = await startTenantApp(
      // Counts fresh on every request, so the counting test sees what it inserted.
      { ...FOUR_TENANTS, env: { ...FOUR_TENANTS.env, TOWNHALL_USAGE_CACHE_MS: '0' } },
      (config) => InstanceAppModule.forRoot(config),
      mountInstanceOpenApi,
    );
  });

  afterAll(async () => {
    await instance?.close();
  });

  it('answers each tenant domain with its own instance (v2)', async () => {
    const a = await get('/api/v2/instance', 'social.alpha.example').expect(200);
    const b = await get('/api/v2/instance', 'social.beta.example').expect(200);
    expect(a.headers['content-type']).toMatch(/^application\/json/);
    expect(a.body).toMatchObject({
      domain: 'social.alpha.example',
      title: 'Alpha Ministry',
      // The admin's address is personal data: no contact address until the tenant chooses one.
      contact: { email: '', account: null },
    });
    expect(b.body).toMatchObject({ domain: 'social.beta.example', title: 'Beta Agency' });
    expect(a.text).not.toContain('press@alpha.example');
    expect(b.text).not.toContain('comms@beta.example');
  });

  it('answers each tenant domain with its own instance (v1)', async () => {
    const a = await get('/api/v1/instance', 'social.alpha.example').expect(200);
    const b = await get('/api/v1/instance', 'social.beta.example').expect(200);
    expect(a.body).toMatchObject({
      uri: 'social.alpha.example',
      title: 'Alpha Ministry',
      email: '',
    });
    expect(b.body).toMatchObject({ uri: 'social.beta.example', title: 'Beta Agency' });
    expect(a.text).not.toContain('press@alpha.example');
    expect(b.text).not.toContain('comms@beta.example');
  });

  it('has the Mastodon v2 Instance shape, with links on the configured public scheme and port', async () => {
    const { body } = await get('/api/v2/instance', 'social.alpha.example').expect(200);
    expect(body).toMatchObject({
      version: '4.3.0 (compatible; Townhall 0.1.0)',
      source_url: expect.stringMatching(/^https:\/\//),
      description: expect.any(String),
      usage: { users: { active_month: 0 } },
      thumbnail: { url: 'http://social.alpha.example:3000/instance/thumbnail.png' },
      languages: ['en'],
      configuration: {
        urls: {
          streaming: 'ws://social.alpha.example:3000',
          about: 'http://social.alpha.example:3000/about',
        },
        statuses: { max_characters: 500, max_media_attachments: 4, characters_reserved_per_url: 23 },
        media_attachments: {
          image_size_limit: 16777216,
          video_size_limit: 103809024,
          supported_mime_types: expect.arrayContaining(['image/png']),
        },
        polls: {
          max_options: 4,
          max_characters_per_option: 50,
          min_expiration: 300,
          max_expiration: 2629746,
        },
      },
      registrations: { enabled: false, approval_required: false },
      api_versions: { mastodon: 2 },
      rules: [],
    });
    expect(JSON.stringify(body)).not.toMatch(/https:\/\/social\.alpha|:443|wss:/);
  });

  it('has the Mastodon V1::Instance shape, counting only the tenant’s own confirmed users', async () => {
    const { body } = await get('/api/v1/instance', 'social.alpha.example').expect(200);
    expect(body).toMatchObject({
      version: '4.3.0 (compatible; Townhall 0.1.0)',
      urls: { streaming_api: 'ws://social.alpha.example:3000' },
      // The owner; the instance actor has no user and is not counted.
      stats: { user_count: 1, status_count: 0, domain_count: 0 },
      thumbnail: 'http://social.alpha.example:3000/instance/thumbnail.png',
      registrations: false,
      approval_required: false,
      invites_enabled: false,
      contact_account: null,
      rules: [],
      configuration: { statuses: { max_characters: 500 }, polls: { max_options: 4 } },
    });
  });

  it('counts users in the tenant’s own schema', async () => {
    // A tenant of its own, so what it adds changes no count another test reads.
    const epsilon = await instance.provisioner.activate({
      slug: 'epsilon',
      domain: 'social.epsilon.example',
      displayName: 'Epsilon',
      adminEmail: 'press@epsilon.example',
    });
    const ds = instance.app.get(DataSource);
    await runInTenantSchema(ds, tenantRef(epsilon, 'social.epsilon.example'), async (manager) => {
      const accountId = await insertLocalAccount(manager, {
        username: 'spokesperson',
        displayName: 'Spokesperson',
        actorType: 'Person',
        uri: 'http://social.epsilon.example:3000/users/spokesperson',
        url: null,
      });
      await insertUser(manager, {
        accountId,
        email: 'spokesperson@epsilon.example',
        role: 'user',
        confirmed: true,
      });
      const unconfirmed = await insertLocalAccount(manager, {
        username: 'newcomer',
        displayName: 'Newcomer',
        actorType: 'Person',
        uri: 'http://social.epsilon.example:3000/users/newcomer',
        url: null,
      });
      await insertUser(manager, {
        accountId: unconfirmed,
        email: 'newcomer@epsilon.example',
        role: 'user',
        confirmed: false,
      });
    });
    const counted = await get('/api/v1/instance', 'social.epsilon.example').expect(200);
    const other = await get('/api/v1/instance', 'social.beta.example').expect(200);
    // The owner and the confirmed user; not the unconfirmed one, nor anyone of another tenant.
    expect(counted.body.stats.user_count).toBe(2);
    expect(other.body.stats.user_count).toBe(1);
  });

  it.each([
    'SOCIAL.ALPHA.EXAMPLE',
    'social.alpha.example.',
    'social.alpha.example:8443',
    'Social.Alpha.Example.:3000',
  ])('resolves the Host %s to its canonical tenant domain', async (host) => {
    const { body } = await get('/api/v2/instance', host).expect(200);
    expect(body).toMatchObject({ domain: 'social.alpha.example', title: 'Alpha Ministry' });
  });

  it.each([
    'social.alpha.example/admin',
    'social.alpha.example?x#y',
    'social.alpha%2eexample',
    'social.alpha.example%00',
    'social.alpha.example\\x',
    'user@social.alpha.example',
    ' social.alpha.example:80 80',
  ])('answers the Host %p with 404 instead of rewriting it into a tenant domain', async (host) => {
    expectMastodonError(await get('/api/v2/instance', host), 404, /No instance is hosted at this address/);
  });

  it('answers an unknown host with a Mastodon error (404)', async () => {
    const res = await get('/api/v2/instance', 'nobody.example');
    expectMastodonError(res, 404, /No instance is hosted at this address/);
    expectMastodonError(
      await get('/api/v1/instance', 'nobody.example'),
      404,
      /No instance is hosted at this address/,
    );
  });

  it('answers for a suspended tenant with a Mastodon error (503)', async () => {
    expectMastodonError(await get('/api/v2/instance', 'social.gamma.example'), 503, /suspended/);
    expectMastodonError(await get('/api/v1/instance', 'social.gamma.example'), 503, /suspended/);
  });

  it('answers for a tenant still being provisioned with a Mastodon error (503)', async () => {
    expect((await instance.provisioner.registry.findById(instance.tenants.delta.id))?.status).toBe(
      'provisioning',
    );
    expectMastodonError(
      await get('/api/v2/instance', 'social.delta.example'),
      503,
      /This instance is provisioning/,
    );
  });

  it('lets browser clients on other origins read the instance document', async () => {
    const res = await get('/api/v2/instance', 'social.beta.example')
      .set('Origin', 'https://client.example')
      .expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('serves the thumbnail it links to', async () => {
    const res = await get('/instance/thumbnail.png', 'social.beta.example').expect(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect((res.body as Buffer).subarray(1, 4).toString()).toBe('PNG');
  });

  it('publishes an OpenAPI document with both instance endpoints', async () => {
    const res = await get('/api/docs/openapi.json', '127.0.0.1').expect(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/instance', '/api/v2/instance']),
    );
    expect(Object.keys(res.body.paths)).not.toContain('/health/ready');
  });
});
