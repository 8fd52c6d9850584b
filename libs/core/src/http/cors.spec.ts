import { corsResourceOf } from './cors';

describe('corsResourceOf (Mastodon 4.3 config/initializers/cors.rb)', () => {
  it.each([
    ['/api/v1/timelines/home', 'POST, PUT, DELETE, GET, PATCH, OPTIONS'],
    ['/api/v2/search', 'POST, PUT, DELETE, GET, PATCH, OPTIONS'],
    ['/oauth/token', 'POST'],
    ['/oauth/revoke', 'POST'],
    ['/.well-known/webfinger', 'GET'],
    ['/nodeinfo/2.1', 'GET'],
    ['/@alice', 'GET'],
    ['/users/alice', 'GET'],
  ])('%s is open for %s', (path, methods) => {
    expect(corsResourceOf(path)?.methods.join(', ')).toBe(methods);
  });

  it('exposes the headers clients read on the API only', () => {
    expect(corsResourceOf('/api/v1/accounts/1')?.expose).toEqual([
      'Link',
      'X-RateLimit-Reset',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-Request-Id',
    ]);
    expect(corsResourceOf('/oauth/token')?.expose).toBeUndefined();
  });

  it.each([
    '/api/platform/v1/tenants',
    '/api/regulator/v1/audit',
    '/oauth/authorize',
    '/@alice/123',
    '/users/alice/statuses/123',
    '/tags/floods',
    '/',
    '/system/media/1/abc/original.png',
  ])('%s is not', (path) => {
    expect(corsResourceOf(path)).toBeUndefined();
  });
});
