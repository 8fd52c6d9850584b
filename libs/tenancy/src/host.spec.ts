import { canonicalHost } from './host';

describe('canonicalHost', () => {
  it.each([
    ['social.agency.example', 'social.agency.example'],
    ['Social.Agency.Example', 'social.agency.example'],
    ['social.agency.example.', 'social.agency.example'],
    ['social.agency.example:443', 'social.agency.example'],
    ['SOCIAL.agency.example.:8080', 'social.agency.example'],
    ['bürgeramt.example', 'xn--brgeramt-65a.example'],
    ['xn--brgeramt-65a.example', 'xn--brgeramt-65a.example'],
  ])('%s → %s', (raw, canonical) => {
    expect(canonicalHost(raw)).toBe(canonical);
  });

  it.each([
    [''],
    ['127.0.0.1'],
    ['[::1]:3000'],
    ['host:port'],
    ['-bad.example'],
    ['bad-.example'],
    ['under_score.example'],
    ['a..b'],
    ['x'.repeat(64) + '.example'],
    ['space here.example'],
  ])('refuses %p', (raw) => {
    expect(canonicalHost(raw)).toBeUndefined();
  });

  it('refuses non-strings', () => {
    expect(canonicalHost(undefined)).toBeUndefined();
    expect(canonicalHost(null)).toBeUndefined();
  });
});
