import { isOperationsPath, isPlatformPath, pathOf, PlatformHosts } from './platform-site';

/** Which requests are the platform's (docs/architecture.md, "Platform or tenant, by Host"). */
describe('platform paths', () => {
  it.each([
    '/api/platform',
    '/api/platform/v1/tenants',
    '/api/regulator/v1/checkpoints',
    '/api/docs',
    '/api/docs/openapi.json',
    '/api/federation/docs',
    '/health/live',
    '/health',
    '/metrics',
  ])('%s is the platform’s', (path) => {
    expect(isPlatformPath(path)).toBe(true);
  });

  it.each(['/api/v1/instance', '/api/platformx', '/healthz', '/metrics2', '/nodeinfo/2.1', '/', '/api'])(
    '%s belongs to the tenant the Host names',
    (path) => {
      expect(isPlatformPath(path)).toBe(false);
    },
  );

  it('matches exactly, as the router does: no case or slash folding', () => {
    // Other spellings are the tenant's, and no tenant route answers them (404).
    for (const path of ['/METRICS', '/Health/live', '//metrics', '/api//platform']) {
      expect({ path, platform: isPlatformPath(path) }).toEqual({ path, platform: false });
    }
  });

  it('gives only health and metrics to a separate operations port', () => {
    expect(['/health/ready', '/metrics', '/api/platform/v1', '/api/docs'].map(isOperationsPath)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('reads the path without its query', () => {
    expect(pathOf('/metrics?x=1')).toBe('/metrics');
    expect(pathOf('/metrics')).toBe('/metrics');
  });
});

describe('PlatformHosts', () => {
  const hosts = new PlatformHosts({ platformHosts: ['ops.social.example'] });

  it.each([
    '127.0.0.1',
    '127.0.0.1:3000',
    '10.1.2.3:80',
    '[::1]',
    '[::1]:3000',
    '[2001:db8::1]:443',
    'localhost',
    'localhost:3000',
    'LOCALHOST.',
    'ops.social.example',
    'OPS.Social.Example.:443',
  ])('%p is a platform address', (host) => {
    expect(hosts.includes(host)).toBe(true);
  });

  it.each([
    undefined,
    '',
    'social.example',
    'x.ops.social.example',
    'demo.localhost',
    'localhost:http',
    '::1:3000',
    '[::1',
    '[::1]x',
    '[not-an-ip]',
    '127.0.0.1:3000:1',
    '999.1.1.1',
  ])('%p is not', (host) => {
    expect(hosts.includes(host)).toBe(false);
  });

  it('gives the same answer when asked again (answers are remembered)', () => {
    for (let i = 0; i < 3; i++)
      expect([hosts.includes('127.0.0.1'), hosts.includes('a.example')]).toEqual([true, false]);
  });
});
