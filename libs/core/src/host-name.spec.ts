import { canonicalHost, hostSkeleton, mixedScriptLabel } from './host-name';

describe('canonicalHost', () => {
  it.each([
    ['social.agency.example', 'social.agency.example'],
    ['Social.Agency.Example', 'social.agency.example'],
    ['social.agency.example.', 'social.agency.example'],
    ['social.agency.example:443', 'social.agency.example'],
    ['SOCIAL.agency.example.:8080', 'social.agency.example'],
    ['localhost', 'localhost'],
    ['demo.localhost:3000', 'demo.localhost'],
    ['bürgeramt.example', 'xn--brgeramt-65a.example'],
    ['Bürgeramt.Example', 'xn--brgeramt-65a.example'],
    ['bu\u0308rgeramt.example', 'xn--brgeramt-65a.example'], // decomposed ü: normalisation is a mapping
    ['xn--brgeramt-65a.example', 'xn--brgeramt-65a.example'],
    ['XN--BRGERAMT-65A.example', 'xn--brgeramt-65a.example'],
    ['ｓｏｃｉａｌ.example', 'social.example'], // full width: a mapping, not a deletion
    ['agency-1.example', 'agency-1.example'],
    ['1.agency.example', '1.agency.example'],
  ])('%p → %p', (raw, canonical) => {
    expect(canonicalHost(raw)).toBe(canonical);
  });

  it.each([
    [''],
    ['.'],
    ['127.0.0.1'],
    ['127.1'],
    ['0x7f.1'],
    ['1.2.3.04'],
    ['agency.123'],
    ['[::1]:3000'],
    ['host:port'],
    ['host.example:99999'],
    ['-bad.example'],
    ['bad-.example'],
    ['under_score.example'],
    ['a..b'],
    ['x'.repeat(64) + '.example'],
    [`${'a'.repeat(63)}.`.repeat(4) + 'example'],
    ['space here.example'],
    [' social.agency.example'],
    ['social.agency.example '],
    // What a URL parser rewrites instead of refusing:
    ['pathy.localhost/admin?x#y'],
    ['pathy.localhost/admin'],
    ['pathy.localhost?x'],
    ['pathy.localhost#y'],
    ['pathy.localhost\\admin'],
    ['user@pathy.localhost'],
    ['alpha%2elocalhost'],
    ['alpha%2Elocalhost'],
    ['al\tpha.localhost'],
    ['al\npha.localhost'],
    ['al\u200bpha.localhost'], // zero-width space
    ['al\u200dpha.localhost'], // zero-width joiner
    ['al\u00adpha.localhost'], // soft hyphen
    ['al\ufeffpha.localhost'],
    ['al\u0000pha.localhost'],
    ['alpha\u3002localhost'], // ideographic full stop, mapped to a dot
    ['a\u2488example'], // "1." in one character
    ['ab--cd.example'], // reserved for IDNA
    ['xn--zz.example'], // not punycode
    ['xn--abc-.example'], // punycode of a plain ASCII label
    ['ａｂ%２ｅexample'],
    ['\u202egoogle.example'],
  ])('refuses %p', (raw) => {
    expect(canonicalHost(raw)).toBeUndefined();
  });

  it('refuses non-strings', () => {
    expect(canonicalHost(undefined)).toBeUndefined();
    expect(canonicalHost(null)).toBeUndefined();
  });
});

describe('mixedScriptLabel', () => {
  it.each([
    ['social.agency.example'],
    ['xn--brgeramt-65a.example'], // Latin with a diacritic
    [canonicalHost('министерство.example')!], // all Cyrillic
    [canonicalHost('υπουργείο.example')!], // all Greek
    [canonicalHost('東京tokyo.example')!], // Han with Latin
    [canonicalHost('とうきょう東京.example')!], // Hiragana with Han
    [canonicalHost('서울seoul.example')!], // Hangul with Latin
    [canonicalHost('agency-1.example')!],
  ])('lets %p pass', (host) => {
    expect(mixedScriptLabel(host)).toBeUndefined();
  });

  it.each([
    [canonicalHost('pаypal.example')!, 'pаypal'], // Cyrillic а among Latin letters
    [canonicalHost('social.bmі.example')!, 'bmі'], // Cyrillic і
    [canonicalHost('αgency.example')!, 'αgency'], // Greek alpha
    [canonicalHost('ᚠᚢᚦ.example')!, 'ᚠᚢᚦ'], // Runic: not recommended for identifiers
  ])('names the mixing label of %p', (host, label) => {
    expect(mixedScriptLabel(host)).toBe(label);
  });
});

describe('hostSkeleton', () => {
  it('is the same for look-alikes and different for hosts that differ visibly', () => {
    const skeleton = (raw: string) => hostSkeleton(canonicalHost(raw)!);
    expect(skeleton('раураl.example')).toBe(skeleton('paypal.example')); // all Cyrillic
    expect(skeleton('paypa1.example')).toBe(skeleton('paypal.example'));
    expect(skeleton('rnodern.example')).toBe(skeleton('modern.example'));
    expect(skeleton('g0v.example')).toBe(skeleton('gov.example'));
    expect(skeleton('bu\u0308rgeramt.example')).toBe(skeleton('bürgeramt.example'));
    expect(skeleton('social.bmi.example')).not.toBe(skeleton('social.bmw.example'));
    expect(skeleton('agency-1.example')).not.toBe(skeleton('agency-11.example'));
  });
});
