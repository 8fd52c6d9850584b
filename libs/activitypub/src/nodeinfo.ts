/**
 * NodeInfo 2.1 (https://nodeinfo.diaspora.software/protocol): the discovery document at
 * `/.well-known/nodeinfo` and the schema 2.1 document it links to. Pure builders: the caller supplies
 * absolute URLs (built from the tenant's public origin) and the counts.
 */
export const NODEINFO_2_1_SCHEMA = 'http://nodeinfo.diaspora.software/ns/schema/2.1';
export const NODEINFO_2_1_CONTENT_TYPE = `application/json; profile="${NODEINFO_2_1_SCHEMA}#"`;

export interface NodeInfoSoftware {
  /** Lower-case letters, digits and hyphens only (the schema's pattern). */
  name: string;
  version: string;
  repository?: string;
  homepage?: string;
}

/** What this server software is, as NodeInfo and the Mastodon instance entity report it. */
export const TOWNHALL_SOFTWARE = {
  name: 'townhall',
  version: '0.1.0',
  repository: 'https://github.com/townhall-social/townhall',
  homepage: 'https://townhall.dev',
} as const satisfies NodeInfoSoftware;

export interface NodeInfoLink {
  rel: string;
  href: string;
}

export interface NodeInfoDiscovery {
  links: NodeInfoLink[];
}

export function nodeInfoDiscovery(nodeInfo21Url: string): NodeInfoDiscovery {
  return { links: [{ rel: NODEINFO_2_1_SCHEMA, href: absoluteUrl(nodeInfo21Url) }] };
}

export interface NodeInfoUsage {
  users: { total: number; activeMonth: number; activeHalfyear: number };
  localPosts: number;
}

export interface NodeInfo21 {
  version: '2.1';
  software: NodeInfoSoftware;
  protocols: string[];
  services: { inbound: string[]; outbound: string[] };
  openRegistrations: boolean;
  usage: NodeInfoUsage;
  metadata: Record<string, unknown>;
}

export interface NodeInfo21Input {
  software: NodeInfoSoftware;
  openRegistrations: boolean;
  usage: NodeInfoUsage;
  /** Free-form; `nodeName` is what most crawlers and clients show. */
  metadata: { nodeName: string } & Record<string, unknown>;
}

const SOFTWARE_NAME = /^[a-z0-9-]+$/;

export function nodeInfo21(input: NodeInfo21Input): NodeInfo21 {
  const { software } = input;
  if (!SOFTWARE_NAME.test(software.name))
    throw new Error(`NodeInfo software name must match ${SOFTWARE_NAME}: ${software.name}`);
  const counts = [
    input.usage.users.total,
    input.usage.users.activeMonth,
    input.usage.users.activeHalfyear,
    input.usage.localPosts,
  ];
  if (!counts.every((n) => Number.isInteger(n) && n >= 0))
    throw new Error('NodeInfo usage counts must be non-negative integers');
  return {
    version: '2.1',
    software: {
      name: software.name,
      version: software.version,
      ...(software.repository ? { repository: absoluteUrl(software.repository) } : {}),
      ...(software.homepage ? { homepage: absoluteUrl(software.homepage) } : {}),
    },
    protocols: ['activitypub'],
    services: { inbound: [], outbound: [] },
    openRegistrations: input.openRegistrations,
    usage: {
      users: { ...input.usage.users },
      localPosts: input.usage.localPosts,
    },
    metadata: { ...input.metadata },
  };
}

function absoluteUrl(url: string): string {
  const parsed = new URL(url); // throws on relative or malformed input
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new Error(`Not an http(s) URL: ${url}`);
  return url;
}
