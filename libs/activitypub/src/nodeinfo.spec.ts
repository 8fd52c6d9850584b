import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NODEINFO_2_1_CONTENT_TYPE,
  NODEINFO_2_1_SCHEMA,
  nodeInfo21,
  nodeInfoDiscovery,
  TOWNHALL_SOFTWARE,
} from './nodeinfo';

describe('NodeInfo documents', () => {
  const usage = { users: { total: 3, activeMonth: 1, activeHalfyear: 2 }, localPosts: 7 };

  it('discovery links the 2.1 document under the 2.1 schema rel', () => {
    expect(nodeInfoDiscovery('https://social.agency.example/nodeinfo/2.1')).toEqual({
      links: [
        {
          rel: 'http://nodeinfo.diaspora.software/ns/schema/2.1',
          href: 'https://social.agency.example/nodeinfo/2.1',
        },
      ],
    });
  });

  it('discovery refuses relative and non-http links', () => {
    expect(() => nodeInfoDiscovery('/nodeinfo/2.1')).toThrow();
    expect(() => nodeInfoDiscovery('javascript:alert(1)')).toThrow();
  });

  it('builds a schema 2.1 document', () => {
    const doc = nodeInfo21({
      software: TOWNHALL_SOFTWARE,
      openRegistrations: false,
      usage,
      metadata: { nodeName: 'Federal Agency' },
    });
    expect(doc).toEqual({
      version: '2.1',
      software: {
        name: 'townhall',
        version: '0.1.0',
        repository: TOWNHALL_SOFTWARE.repository,
        homepage: TOWNHALL_SOFTWARE.homepage,
      },
      protocols: ['activitypub'],
      services: { inbound: [], outbound: [] },
      openRegistrations: false,
      usage: { users: { total: 3, activeMonth: 1, activeHalfyear: 2 }, localPosts: 7 },
      metadata: { nodeName: 'Federal Agency' },
    });
  });

  it('does not share nested objects with its input', () => {
    const input = {
      software: TOWNHALL_SOFTWARE,
      openRegistrations: false,
      usage: structuredClone(usage),
      metadata: { nodeName: 'X' },
    };
    const doc = nodeInfo21(input);
    input.usage.users.total = 99;
    expect(doc.usage.users.total).toBe(3);
  });

  it('refuses a software name outside the schema pattern and invalid counts', () => {
    expect(() =>
      nodeInfo21({
        software: { name: 'Townhall', version: '1' },
        openRegistrations: false,
        usage,
        metadata: { nodeName: 'x' },
      }),
    ).toThrow(/software name/);
    const bad = { ...usage, localPosts: -1 };
    expect(() =>
      nodeInfo21({
        software: TOWNHALL_SOFTWARE,
        openRegistrations: false,
        usage: bad,
        metadata: { nodeName: 'x' },
      }),
    ).toThrow(/counts/);
  });

  it('names the schema profile in its content type', () => {
    expect(NODEINFO_2_1_CONTENT_TYPE).toBe(`application/json; profile="${NODEINFO_2_1_SCHEMA}#"`);
  });

  it('reports the version of the package', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(TOWNHALL_SOFTWARE.version).toBe(pkg.version);
  });
});
