import type { TownhallConfig } from './config';

/**
 * The public origin of a tenant domain. Production is always `https://DOMAIN`; local trials and tests
 * change scheme and port with TOWNHALL_PUBLIC_SCHEME / TOWNHALL_PUBLIC_PORT. Every link the platform
 * emits is built here so the two can never disagree.
 */
export function publicOrigin(config: Pick<TownhallConfig, 'publicUrl'>, domain: string): string {
  const { scheme, port } = config.publicUrl;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return port === undefined || port === defaultPort
    ? `${scheme}://${domain}`
    : `${scheme}://${domain}:${port}`;
}

export function publicUrl(config: Pick<TownhallConfig, 'publicUrl'>, domain: string, path: string): string {
  return `${publicOrigin(config, domain)}${path.startsWith('/') ? path : `/${path}`}`;
}
