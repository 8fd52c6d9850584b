import { methodLabel, routeTemplate, UNMATCHED_ROUTE } from './http-metrics';

describe('request metric labels', () => {
  it('uses the matched route template, with any router mount prefix', () => {
    expect(routeTemplate({ route: { path: '/users/:username' }, baseUrl: '' })).toBe('/users/:username');
    expect(routeTemplate({ route: { path: '/:id' }, baseUrl: '/api/v1/statuses' })).toBe(
      '/api/v1/statuses/:id',
    );
  });

  it('labels requests that matched no route, or only catch-all middleware, as unmatched', () => {
    expect(routeTemplate({ route: undefined, baseUrl: '' })).toBe(UNMATCHED_ROUTE);
    for (const path of ['/{*path}', '{*path}', '/*path', '/*', '*']) {
      expect(routeTemplate({ route: { path }, baseUrl: '' })).toBe(UNMATCHED_ROUTE);
    }
    expect(routeTemplate({ route: { path: /^\/regex/ }, baseUrl: '' })).toBe(UNMATCHED_ROUTE);
  });

  it('keeps templates that merely contain a wildcard', () => {
    expect(routeTemplate({ route: { path: '/media/{*file}' }, baseUrl: '' })).toBe('/media/{*file}');
  });

  it('bounds the method label', () => {
    expect(methodLabel('get')).toBe('GET');
    expect(methodLabel('PROPFIND')).toBe('OTHER');
    expect(methodLabel(undefined)).toBe('OTHER');
  });
});
