import { domainToASCII } from 'node:url';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * The canonical form of a host name: lower case, punycode, no trailing dot, no port. Domains are only
 * ever compared in this form, so `Social.Agency.Example.:443` and `social.agency.example` are one host.
 * Returns undefined for anything that is not a valid DNS host name (IP literals included).
 */
export function canonicalHost(raw: string | undefined | null): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let host = raw.trim();
  if (host === '' || host.length > 300) return undefined;
  if (host.startsWith('[')) return undefined; // IPv6 literal
  const colon = host.lastIndexOf(':');
  if (colon !== -1) {
    const port = host.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port)) return undefined;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  const ascii = domainToASCII(host.toLowerCase());
  if (ascii === '' || ascii.length > 253) return undefined;
  const labels = ascii.split('.');
  if (!labels.every((l) => LABEL.test(l))) return undefined;
  if (labels.length === 4 && labels.every((l) => /^\d+$/.test(l))) return undefined; // IPv4 literal
  return ascii;
}
