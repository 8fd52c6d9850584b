import { canonicalHost } from '../host-name';

/**
 * The one rule for an e-mail address Townhall stores (a tenant owner's, for now), shared by the API's
 * request shapes, the use cases and the CLI: `local@domain`, where the local part is an RFC 5322
 * dot-atom in ASCII (no quoted strings, comments or spaces; at most 64 characters) and the domain is a
 * host name with at least two labels that `canonicalHost` accepts — IDN domains included, IP literals
 * and `localhost` not. The address is kept as written, in NFC; nothing is trimmed.
 */
export const MAX_EMAIL_LENGTH = 254;

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

export type EmailCheck = { address: string; problem?: undefined } | { problem: string; address?: undefined };

export function checkEmailAddress(value: unknown, field = 'adminEmail'): EmailCheck {
  const refused = { problem: `${field} must be an e-mail address such as press@agency.example` };
  if (typeof value !== 'string' || value.length > MAX_EMAIL_LENGTH) return refused;
  const address = value.normalize('NFC');
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (at < 1 || local.length > 64 || !LOCAL_PART.test(local) || domain.includes(':')) return refused;
  const host = canonicalHost(domain);
  if (host === undefined || !host.includes('.') || domain.endsWith('.')) return refused;
  return { address };
}
