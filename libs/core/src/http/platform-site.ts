import { isIP } from 'node:net';
import type { TownhallConfig } from '../config';

/**
 * Every request is addressed either to the platform or to a tenant, and its Host says which. The
 * platform's own surfaces — the operator and regulator APIs, the API documents, health and metrics —
 * live under these paths and answer only on a platform address: an IP literal (how probes, scrapers and
 * `npm start`'s printed address reach a process), `localhost`, or a host name in
 * TOWNHALL_PLATFORM_HOSTS. Every other
 * path belongs to the tenant the Host names. A tenant domain never reaches a platform surface, whatever
 * the spelling of the path, because routing is exact (case-sensitive, no slash folding).
 */
const PLATFORM_PATHS = [
  '/api/platform',
  '/api/regulator',
  '/api/docs',
  '/api/federation/docs',
  '/health',
  '/metrics',
];

/** Health and metrics: the paths a separate operations port (TOWNHALL_OPS_PORT) takes over. */
const OPERATIONS_PATHS = ['/health', '/metrics'];

function under(path: string, bases: readonly string[]): boolean {
  for (const base of bases) {
    if (path.startsWith(base) && (path.length === base.length || path.charCodeAt(base.length) === 0x2f)) {
      return true;
    }
  }
  return false;
}

/** The path of a request URL, without its query. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function isPlatformPath(path: string): boolean {
  return under(path, PLATFORM_PATHS);
}

export function isOperationsPath(path: string): boolean {
  return under(path, OPERATIONS_PATHS);
}

/**
 * Whether a Host header names one of the platform's own addresses. The answer depends only on the
 * header's text and the configuration, so it is remembered (for a bounded number of distinct values).
 */
export class PlatformHosts {
  private readonly names: ReadonlySet<string>;
  private readonly seen = new Map<string, boolean>();

  constructor(config: Pick<TownhallConfig, 'platformHosts'>) {
    this.names = new Set(['localhost', ...config.platformHosts]);
  }

  includes(host: string | undefined): boolean {
    if (host === undefined) return false;
    const known = this.seen.get(host);
    if (known !== undefined) return known;
    const answer = this.classify(host);
    if (this.seen.size >= 1024) this.seen.clear();
    this.seen.set(host, answer);
    return answer;
  }

  private classify(host: string): boolean {
    if (host.startsWith('[')) {
      const end = host.indexOf(']');
      return end > 0 && isIP(host.slice(1, end)) === 6 && /^(:\d{1,5})?$/.test(host.slice(end + 1));
    }
    const colon = host.lastIndexOf(':');
    const name = colon === -1 ? host : host.slice(0, colon);
    if (colon !== -1 && !/^\d{1,5}$/.test(host.slice(colon + 1))) return false;
    if (isIP(name) === 4) return true;
    return this.names.has(name.toLowerCase().replace(/\.$/, ''));
  }
}
