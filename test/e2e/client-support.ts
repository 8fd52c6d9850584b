import { DynamicModule, INestApplication, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TownhallConfig } from '@townhall/core';
import { PersonalTokens } from '@townhall/auth';
import { AuditContext, systemAuditContext } from '@townhall/compliance';
import { type CreateLocalAccountInput, LocalAccountCommands } from '@townhall/social';
import { tenantRef } from '@townhall/tenancy';
import { FederationGatewayModule } from '../../apps/federation-gateway/src/federation-gateway.module';
import { InstanceAppModule } from '../../apps/instance/src/instance-app.module';
import { resolveTestDomainsToLoopback } from '../support/loopback-dns';
import { freePort } from '../support/processes';
import { startTenantApp, TenantApp, TenantSeed } from './instance-support';

/**
 * A tenant's instance app listening on loopback at its own domain (`http://social.alpha.test:PORT`,
 * resolved to 127.0.0.1 in this process), as a third-party client reaches it, with local accounts
 * made through the same use case as `townhall accounts create`.
 */
export interface ClientTestbed extends TenantApp {
  /** `http://<domain>:<port>` of each tenant, by slug. */
  base: Record<string, string>;
  /** Creates a local account on a tenant and returns its login and password. */
  account(
    slug: string,
    username: string,
    role?: 'staff' | 'user',
    profile?: Pick<CreateLocalAccountInput, 'displayName' | 'actorType'>,
  ): Promise<{ email: string; password: string; id: string }>;
  /** A personal access token of a local account (as `townhall tokens create` issues one). */
  token(slug: string, username: string, scopes?: string): Promise<string>;
}

/** The instance app and the federation gateway on one port, as `npm start` runs them (a testbed root). */
@Module({})
export class InstanceWithGateway {
  static forRoot(config: TownhallConfig): DynamicModule {
    return {
      module: InstanceWithGateway,
      imports: [InstanceAppModule.forRoot(config), FederationGatewayModule],
    };
  }
}

export async function startClientTestbed(
  seeds: TenantSeed[],
  env: Record<string, string> = {},
  /** The app to start (default: the instance app); another root must include the instance module. */
  root: (config: TownhallConfig) => DynamicModule = (config) => InstanceAppModule.forRoot(config),
): Promise<ClientTestbed> {
  resolveTestDomainsToLoopback();
  const port = await freePort();
  const testbed = await startTenantApp(
    {
      active: seeds,
      env: {
        TOWNHALL_PUBLIC_SCHEME: 'http',
        TOWNHALL_PUBLIC_PORT: String(port),
        TOWNHALL_TENANT_RATE_LIMIT: '100000',
        ...env,
      },
    },
    root,
  );
  await (testbed.app as INestApplication).listen(port, '127.0.0.1');
  const base = Object.fromEntries(seeds.map((s) => [s.slug, `http://${s.domain}:${port}`]));
  return {
    ...testbed,
    base,
    account: async (slug, username, role = 'user', profile = {}) => {
      const tenant = testbed.tenants[slug];
      const domain = seeds.find((s) => s.slug === slug)!.domain;
      const email = `${username}@${slug}.example`;
      const created = await AuditContext.run(systemAuditContext('test'), () =>
        testbed.app
          .get(LocalAccountCommands)
          .create(tenantRef(tenant, domain), domain, { username, email, role, ...profile }),
      );
      return { email, password: created.password, id: created.accountId };
    },
    token: async (slug, username, scopes = 'read write follow') => {
      const domain = seeds.find((s) => s.slug === slug)!.domain;
      const issued = await AuditContext.run(systemAuditContext('test'), () =>
        testbed.app.get(PersonalTokens).issue(tenantRef(testbed.tenants[slug], domain), { username, scopes }),
      );
      return issued.accessToken;
    },
  };
}

/**
 * Goes through the authorize page as a person in a browser would: loads it, fills in the sign-in form
 * (with the CSRF token and cookie the page set) and follows the answer to the client's redirect URI.
 * Returns the authorization code.
 */
export async function signInThroughAuthorizePage(
  authorizeUrl: string,
  login: string,
  password: string,
): Promise<string> {
  const page = await fetch(authorizeUrl);
  const html = await page.text();
  if (page.status !== 200) throw new Error(`authorize page: ${page.status} ${html.slice(0, 300)}`);
  const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(match[1], unescapeHtml(match[2]));
  }
  form.set('login', login);
  form.set('password', password);
  form.set('decision', 'authorize');
  const answer = await fetch(new URL('/oauth/authorize', authorizeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: form,
    redirect: 'manual',
  });
  const location = answer.headers.get('location');
  if (answer.status !== 302 || !location) {
    throw new Error(`sign-in answered ${answer.status}: ${(await answer.text()).slice(0, 500)}`);
  }
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code in ${location}`);
  return code;
}

function unescapeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * One call to a tenant's API as an app makes it: a bearer token (or none), a JSON object, form or
 * multipart body. Answers the status and the parsed JSON body.
 */
export async function callApi<T>(
  base: string,
  method: string,
  path: string,
  token: string | null,
  body?: Record<string, unknown> | URLSearchParams | FormData,
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let payload: RequestInit['body'];
  if (body instanceof URLSearchParams || body instanceof FormData) payload = body;
  else if (body) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${base}${path}`, { method, headers, body: payload });
  const answer = { status: res.status, body: (await res.json()) as T } as {
    status: number;
    body: T;
    headers: Headers;
  };
  // Not enumerable: tests compare `{ status, body }` with toEqual.
  Object.defineProperty(answer, 'headers', { value: res.headers, enumerable: false });
  return answer;
}

/**
 * The testbed of a describe block with one tenant, `alpha` at social.alpha.test: started before its
 * tests (the returned object is filled in by then) and closed after them. `ds` and `schema` reach the
 * tenant's tables for what a test writes as the federation gateway or a bulk import would.
 */
export function alphaTestbedForBlock(
  env: Record<string, string> = {},
  root?: (config: TownhallConfig) => DynamicModule,
): {
  bed: ClientTestbed;
  ds: DataSource;
  schema: string;
  call: <T = unknown>(
    method: string,
    path: string,
    token: string,
    body?: Record<string, unknown>,
  ) => ReturnType<typeof callApi<T>>;
} {
  const block = {} as ReturnType<typeof alphaTestbedForBlock>;
  beforeAll(async () => {
    const bed = await startClientTestbed(
      [
        {
          slug: 'alpha',
          domain: 'social.alpha.test',
          displayName: 'Alpha',
          adminEmail: 'press@alpha.example',
        },
      ],
      env,
      root,
    );
    Object.assign(block, {
      bed,
      ds: bed.app.get(DataSource),
      schema: bed.tenants.alpha.schemaName,
      call: (method: string, path: string, token: string, body?: Record<string, unknown>) =>
        callApi(bed.base.alpha, method, path, token, body),
    });
  });
  afterAll(async () => {
    await block.bed?.close();
  });
  return block;
}
