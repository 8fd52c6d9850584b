import { checkFetchUrl, checkResolvedAddresses, forbiddenAddressReason } from './address-policy';
import { FetchError } from './fetch-errors';

const secure = { insecure: false };
const insecure = { insecure: true };

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (!(err instanceof FetchError)) throw err;
    return err.code;
  }
}

describe('forbiddenAddressReason', () => {
  it.each([
    ['0.0.0.0', 'unspecified ("this network")'],
    ['0.1.2.3', 'unspecified ("this network")'],
    ['10.1.2.3', 'private'],
    ['100.64.0.1', 'shared address space (CGNAT)'],
    ['100.127.255.254', 'shared address space (CGNAT)'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.251', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved (and broadcast)'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'IPv4-mapped'],
    ['::ffff:7f00:1', 'IPv4-mapped'],
    ['::ffff:8.8.8.8', 'IPv4-mapped'],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['64:ff9b::a00:1', 'NAT64'],
    ['2001:db8::1', 'documentation'],
    ['2002:7f00:1::', '6to4'],
    ['fc00::1', 'unique local (private)'],
    ['fd12:3456::1', 'unique local (private)'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'scoped (zone index)'],
    ['ff02::1', 'multicast'],
    ['localhost', 'not an IP address'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(forbiddenAddressReason(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255',
    '100.128.0.0',
    '172.32.0.1',
    '2606:4700::1111',
    '2a01:4f8::1',
  ])('allows the public address %s', (address) => {
    expect(forbiddenAddressReason(address)).toBeUndefined();
  });
});

describe('checkFetchUrl', () => {
  it.each([
    ['https://mastodon.social/users/Gargron', 'mastodon.social'],
    ['https://xn--bcher-kva.example/actor', 'xn--bcher-kva.example'],
    ['https://bücher.example/actor', 'xn--bcher-kva.example'],
    ['https://Mastodon.Social:8443/@x', 'mastodon.social'],
    ['https://8.8.8.8/actor', '8.8.8.8'],
    ['https://[2606:4700::1111]/actor', '[2606:4700::1111]'],
  ])('accepts %s', (url, host) => {
    expect(checkFetchUrl(url, secure).hostname).toBe(host);
  });

  it.each([
    // scheme
    ['http://mastodon.social/users/a', 'bad_url'],
    ['ftp://mastodon.social/a', 'bad_url'],
    ['data:application/activity+json,{}', 'bad_url'],
    ['file:///etc/passwd', 'bad_url'],
    ['not a url', 'bad_url'],
    // credentials
    ['https://user:pass@mastodon.social/a', 'bad_url'],
    ['https://user@mastodon.social/a', 'bad_url'],
    // literal addresses
    ['https://127.0.0.1/a', 'forbidden_address'],
    ['https://169.254.169.254/latest/meta-data', 'forbidden_address'],
    ['https://[::1]/a', 'forbidden_address'],
    ['https://[::ffff:127.0.0.1]/a', 'forbidden_address'],
    ['https://[::ffff:a00:1]/a', 'forbidden_address'],
    ['https://[fe80::1]/a', 'forbidden_address'],
    ['https://0.0.0.0/a', 'forbidden_address'],
    ['https://localhost/a', 'forbidden_address'],
    ['https://api.localhost/a', 'forbidden_address'],
    // numeric forms the WHATWG parser turns into 127.0.0.1 (or a public address)
    ['https://2130706433/a', 'bad_url'],
    ['https://0x7f000001/a', 'bad_url'],
    ['https://0x7f.0.0.1/a', 'bad_url'],
    ['https://0177.0.0.1/a', 'bad_url'],
    ['https://127.1/a', 'bad_url'],
    ['https://127.0.0.1./a', 'bad_url'],
    ['https://%31%32%37.0.0.1/a', 'bad_url'],
    ['https://134744072/a', 'bad_url'],
    ['https://010.010.010.010/a', 'bad_url'],
    // odd names
    ['https://mastodon.social./a', 'bad_url'],
    ['https://-bad.example/a', 'bad_url'],
    ['https://a_b.example/a', 'bad_url'],
  ])('refuses %s (%s)', (url, code) => {
    expect(refusal(() => checkFetchUrl(url, secure))).toBe(code);
  });

  it('allows http, loopback and private literals only with the insecure setting, never odd numeric forms', () => {
    expect(checkFetchUrl('http://127.0.0.1:8080/a', insecure).port).toBe('8080');
    expect(checkFetchUrl('http://localhost/a', insecure).hostname).toBe('localhost');
    expect(checkFetchUrl('https://[::1]/a', insecure).hostname).toBe('[::1]');
    expect(refusal(() => checkFetchUrl('http://2130706433/a', insecure))).toBe('bad_url');
    expect(refusal(() => checkFetchUrl('http://u:p@127.0.0.1/a', insecure))).toBe('bad_url');
    expect(refusal(() => checkFetchUrl('ftp://127.0.0.1/a', insecure))).toBe('bad_url');
  });
});

describe('checkResolvedAddresses', () => {
  it('gives the first address when every address is public', () => {
    expect(
      checkResolvedAddresses(
        'a.example',
        [
          { address: '8.8.8.8', family: 4 },
          { address: '2606:4700::1111', family: 6 },
        ],
        secure,
      ),
    ).toEqual({ address: '8.8.8.8', family: 4 });
  });

  it('refuses a name with any forbidden address among its answers, or none', () => {
    const mixed = [
      { address: '8.8.8.8', family: 4 },
      { address: '10.0.0.5', family: 4 },
    ];
    expect(refusal(() => checkResolvedAddresses('a.example', mixed, secure))).toBe('forbidden_address');
    expect(refusal(() => checkResolvedAddresses('a.example', [{ address: '::1', family: 6 }], secure))).toBe(
      'forbidden_address',
    );
    expect(refusal(() => checkResolvedAddresses('a.example', [], secure))).toBe('dns_failed');
    expect(checkResolvedAddresses('a.example', mixed, insecure)).toEqual(mixed[0]);
  });
});
