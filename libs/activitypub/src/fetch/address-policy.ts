import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { FetchError } from './fetch-errors';

/**
 * Which URLs and addresses the platform may fetch. Every remote fetch (actors, keys, objects,
 * WebFinger, NodeInfo, media, inboxes) goes through these rules, twice: the URL before anything is
 * resolved, then every address its name resolves to, before connecting to one of them.
 *
 * The ranges are IANA's special-purpose registries (RFC 6890 and its updates): nothing there is a
 * public server another fediverse instance would run on, and several reach the platform's own network.
 */
const FORBIDDEN_V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (and broadcast)'],
];

const FORBIDDEN_V6: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  // Addresses that carry an IPv4 address reach it: the IPv4 rules cannot be trusted to see them.
  ['::ffff:0:0', 96, 'IPv4-mapped'],
  ['::', 96, 'IPv4-compatible'],
  ['64:ff9b::', 96, 'NAT64'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['2001::', 23, 'IETF protocol assignments (Teredo, benchmarking, ORCHID)'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

// One list per family: Node's BlockList matches an IPv4 address against IPv6 subnets through its
// mapped form (::ffff:a.b.c.d), which would give every IPv4 address the IPv4-mapped reason.
const blocks = (family: 'ipv4' | 'ipv6', table: Array<[string, number, string]>) =>
  table.map(([net, prefix, reason]) => {
    const block = new BlockList();
    block.addSubnet(net, prefix, family);
    return { block, reason };
  });
const RANGES = { ipv4: blocks('ipv4', FORBIDDEN_V4), ipv6: blocks('ipv6', FORBIDDEN_V6) };

/** Why an IP address may not be fetched from, or undefined when it is a public unicast address. */
export function forbiddenAddressReason(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIPv4(bare) ? 'ipv4' : isIPv6(bare) ? 'ipv6' : undefined;
  if (!family) return 'not an IP address';
  // A zone index (fe80::1%eth0) names an interface of this machine.
  if (bare.includes('%')) return 'scoped (zone index)';
  for (const { block, reason } of RANGES[family]) if (block.check(bare, family)) return reason;
  return undefined;
}

export interface UrlPolicy {
  /** TOWNHALL_INSECURE_FEDERATION: http and loopback or private addresses allowed (tests, local trials). */
  insecure: boolean;
  /**
   * For tests of the rules themselves, which need a server to reach while everything else stays
   * forbidden: http allowed, and these exact addresses treated as public. Not read from configuration.
   */
  testing?: { allowHttp: boolean; publicAddresses: readonly string[] };
}

function addressRefusal(address: string, policy: UrlPolicy): string | undefined {
  if (policy.insecure) return undefined;
  const bare = address.startsWith('[') ? address.slice(1, -1) : address;
  if (policy.testing?.publicAddresses.includes(bare)) return undefined;
  return forbiddenAddressReason(bare);
}

/**
 * Checks a URL before it is resolved: https (http only when insecure), no credentials, and a host in
 * one canonical form — a domain name without a trailing dot, or an IP literal written as itself. The
 * WHATWG parser reads `0x7f.1`, `2130706433`, `0177.0.0.1`, `127.1` and percent-escapes as 127.0.0.1;
 * what a URL means must be what it says, so any host the parser rewrote into an IPv4 address is refused.
 */
export function checkFetchUrl(raw: string, policy: UrlPolicy): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchError('bad_url', 'The address is not a URL.');
  }
  const httpAllowed = policy.insecure || policy.testing?.allowHttp === true;
  if (url.protocol !== 'https:' && !(httpAllowed && url.protocol === 'http:')) {
    throw new FetchError('bad_url', `Only https URLs are fetched (got ${url.protocol}).`);
  }
  if (url.username || url.password || rawAuthority(raw).includes('@')) {
    throw new FetchError('bad_url', 'URLs with credentials are not fetched.');
  }
  const written = rawHost(raw);
  const host = url.hostname;
  if (!host) throw new FetchError('bad_url', 'The URL has no host.');
  if (host.startsWith('[')) {
    const reason = addressRefusal(host, policy);
    if (reason) throw new FetchError('forbidden_address', `The address is ${reason}.`);
    return url;
  }
  if (isIPv4(host)) {
    if (written !== host) {
      throw new FetchError('bad_url', 'IPv4 addresses are fetched only in dotted-decimal form.');
    }
    const reason = addressRefusal(host, policy);
    if (reason) throw new FetchError('forbidden_address', `The address is ${reason}.`);
    return url;
  }
  if (host.endsWith('.') || host.includes('..')) {
    throw new FetchError('bad_url', 'Host names are fetched without a trailing dot or empty labels.');
  }
  if (!/^[a-z0-9.-]+$/.test(host) || host.split('.').some((l) => l.startsWith('-') || l.endsWith('-'))) {
    throw new FetchError('bad_url', 'The host is not a valid domain name.');
  }
  // A last label of digits only is neither a top-level domain nor (after the parser) an address.
  if (/^[0-9]+$/.test(host.slice(host.lastIndexOf('.') + 1))) {
    throw new FetchError('bad_url', 'The host is not a valid domain name.');
  }
  if (!policy.insecure && (host === 'localhost' || host.endsWith('.localhost'))) {
    throw new FetchError('forbidden_address', 'The address is loopback.');
  }
  return url;
}

/** The checked address a fetch connects to, after every address of the name passed. */
export function checkResolvedAddresses(
  host: string,
  addresses: ReadonlyArray<{ address: string; family: number }>,
  policy: UrlPolicy,
): { address: string; family: number } {
  if (addresses.length === 0) throw new FetchError('dns_failed', `${host} has no address.`);
  // One forbidden answer refuses the name: which answer a connection would use is not ours to pick.
  for (const a of addresses) {
    const reason = addressRefusal(a.address, policy);
    if (reason)
      throw new FetchError('forbidden_address', `${host} resolves to an address that is ${reason}.`);
  }
  return addresses[0];
}

function rawAuthority(raw: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#\\]*)/.exec(raw.trim());
  return m ? m[1] : '';
}

/** The host as written in the URL, lower-cased, without userinfo or port. */
function rawHost(raw: string): string {
  const authority = rawAuthority(raw);
  const afterAt = authority.slice(authority.lastIndexOf('@') + 1);
  if (afterAt.startsWith('[')) return afterAt.slice(0, afterAt.indexOf(']') + 1).toLowerCase();
  const colon = afterAt.lastIndexOf(':');
  return (colon >= 0 ? afterAt.slice(0, colon) : afterAt).toLowerCase();
}
