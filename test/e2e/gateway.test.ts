import { FederationGatewayAppModule } from '../../apps/federation-gateway/src/federation-gateway-app.module';
import { mountGatewayOpenApi } from '../../apps/federation-gateway/src/openapi';
import { expectMastodonError, FOUR_TENANTS, startTenantApp, TenantApp } from './instance-support';

describe('federation gateway: NodeInfo and host-meta (real PostgreSQL and Redis, over HTTP)', () => {
  let gateway: TenantApp;

  const get = (path: string, host: string) => gateway.get(path, host);

  beforeAll(async () => {
    gateway = await startTenantApp(
      FOUR_TENANTS,
      (config) => FederationGatewayAppModule.forRoot(config),
      mountGatewayOpenApi,
    );
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('links each domain to its own NodeInfo 2.1 document', async () => {
    const a = await get('/.well-known/nodeinfo', 'social.alpha.example').expect(200);
    expect(a.headers['content-type']).toMatch(/^application\/json/);
    expect(a.body).toEqual({
      links: [
        {
          rel: 'http://nodeinfo.diaspora.software/ns/schema/2.1',
          href: 'http://social.alpha.example:3000/nodeinfo/2.1',
        },
      ],
    });
    const b = await get('/.well-known/nodeinfo', 'Social.Beta.Example.').expect(200);
    expect(b.body.links[0].href).toBe('http://social.beta.example:3000/nodeinfo/2.1');
  });

  it('serves NodeInfo 2.1 with the schema profile and each tenant’s own name and usage', async () => {
    const a = await get('/nodeinfo/2.1', 'social.alpha.example').expect(200);
    expect(a.headers['content-type']).toMatch(
      /^application\/json; profile="http:\/\/nodeinfo\.diaspora\.software\/ns\/schema\/2\.1#"/,
    );
    expect(JSON.parse(a.text)).toEqual({
      version: '2.1',
      software: {
        name: 'townhall',
        version: '0.1.0',
        repository: expect.stringMatching(/^https:\/\//),
        homepage: expect.stringMatching(/^https:\/\//),
      },
      protocols: ['activitypub'],
      services: { inbound: [], outbound: [] },
      openRegistrations: false,
      usage: { users: { total: 1, activeMonth: 0, activeHalfyear: 0 }, localPosts: 0 },
      metadata: { nodeName: 'Alpha Ministry' },
    });
    const b = await get('/nodeinfo/2.1', 'social.beta.example').expect(200);
    expect(JSON.parse(b.text).metadata).toEqual({ nodeName: 'Beta Agency' });
  });

  it('serves host-meta as XRD with the WebFinger template of the domain', async () => {
    const res = await get('/.well-known/host-meta', 'social.alpha.example').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/xrd\+xml/);
    expect(res.text).toContain('<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">');
    expect(res.text).toContain(
      '<Link rel="lrdd" template="http://social.alpha.example:3000/.well-known/webfinger?resource={uri}"/>',
    );
    const beta = await get('/.well-known/host-meta', 'social.beta.example').expect(200);
    expect(beta.text).toContain(
      'template="http://social.beta.example:3000/.well-known/webfinger?resource={uri}"',
    );
  });

  it('serves host-meta as JRD', async () => {
    const res = await get('/.well-known/host-meta.json', 'social.beta.example').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      links: [
        { rel: 'lrdd', template: 'http://social.beta.example:3000/.well-known/webfinger?resource={uri}' },
      ],
    });
  });

  it('lets any origin read the discovery documents', async () => {
    for (const path of [
      '/.well-known/nodeinfo',
      '/nodeinfo/2.1',
      '/.well-known/host-meta',
      '/.well-known/host-meta.json',
    ]) {
      const res = await get(path, 'social.alpha.example').expect(200);
      expect(res.headers['access-control-allow-origin']).toBe('*');
    }
  });

  it.each([
    '/.well-known/nodeinfo',
    '/nodeinfo/2.1',
    '/.well-known/host-meta',
    '/.well-known/host-meta.json',
  ])(
    'answers %s for an unknown host with a Mastodon error (404), and for suspended or provisioning tenants with 503',
    async (path) => {
      expectMastodonError(await get(path, 'nobody.example'), 404, /No instance is hosted at this address/);
      expectMastodonError(await get(path, 'social.gamma.example'), 503, /suspended/);
      expectMastodonError(await get(path, 'social.delta.example'), 503, /This instance is provisioning/);
    },
  );

  it('publishes an OpenAPI document of the discovery endpoints', async () => {
    const res = await get('/api/federation/docs/openapi.json', '127.0.0.1').expect(200);
    // A platform document: not on a tenant's domain.
    await get('/api/federation/docs/openapi.json', 'social.alpha.example').expect(404);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/.well-known/nodeinfo',
        '/nodeinfo/2.1',
        '/.well-known/host-meta',
        '/.well-known/host-meta.json',
      ]),
    );
  });

  it('answers its health probe on platform addresses only', async () => {
    await get('/health/live', '127.0.0.1').expect(200, { status: 'ok' });
    await get('/health/live', 'nobody.example').expect(404);
    await get('/health/live', 'social.alpha.example').expect(404);
  });
});
