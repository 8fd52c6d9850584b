import { methodLabel, routeLabel, UNMATCHED_ROUTE } from './http-metrics';

describe('request metric labels', () => {
  it('uses the matched route template', () => {
    expect(routeLabel('/users/:username')).toBe('/users/:username');
    expect(routeLabel('/api/v1/statuses/:id')).toBe('/api/v1/statuses/:id');
  });

  it('labels requests that matched no route as unmatched', () => {
    expect(routeLabel(undefined)).toBe(UNMATCHED_ROUTE);
    expect(routeLabel('')).toBe(UNMATCHED_ROUTE);
  });

  it('bounds the method label', () => {
    expect(methodLabel('get')).toBe('GET');
    expect(methodLabel('PROPFIND')).toBe('OTHER');
    expect(methodLabel(undefined)).toBe('OTHER');
  });
});
