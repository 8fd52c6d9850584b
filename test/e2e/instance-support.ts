import { getQueueToken } from '@nestjs/bull';
import { DynamicModule, INestApplication, INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bull';
import request, { Response } from 'supertest';
import {
  configureHttpApp,
  createHttpAdapter,
  HTTP_APP_OPTIONS,
  TOWNHALL_CONFIG,
  TownhallConfig,
  type TownhallHttpApp,
} from '@townhall/core';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import {
  PROVISIONING_QUEUE,
  ProvisioningModule,
  ProvisioningSaga,
  ProvisionTenantCommand,
  TenantLifecycle,
} from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';
import { createTestDatabase } from '../support/database';
import { actingAs } from '../support/audit';
import { waitForTenantStatus } from '../support/tenants';

/** An HTTP app as its process builds it: the root module and the shared HTTP hardening. */
export async function startHttpApp(
  root: DynamicModule,
  mount?: (app: INestApplication) => void,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [root] }).compile();
  const config = moduleRef.get<TownhallConfig>(TOWNHALL_CONFIG);
  const app = moduleRef.createNestApplication<TownhallHttpApp>(createHttpAdapter(config), HTTP_APP_OPTIONS);
  await configureHttpApp(app);
  mount?.(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** What a test names a tenant by. */
export interface TenantSeed {
  slug: string;
  domain: string;
  displayName: string;
  adminEmail: string;
}

/**
 * The provisioning side of the platform on the same database, beside the app under test. Its
 * workers are off so a tenant stays `provisioning` until the test runs the saga (what a worker runs),
 * which is how a test gets a tenant that is still being provisioned.
 */
export class Provisioner {
  private constructor(private readonly context: INestApplicationContext) {}

  static async start(config: TownhallConfig): Promise<Provisioner> {
    const quiet: TownhallConfig = { ...config, provisioning: { ...config.provisioning, workers: false } };
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule.forRoot(quiet), ProvisioningModule],
    }).compile();
    return new Provisioner(await moduleRef.init());
  }

  get registry(): TenantRegistry {
    return this.context.get(TenantRegistry);
  }

  get lifecycle(): TenantLifecycle {
    return actingAs(this.context.get(TenantLifecycle));
  }

  /** Registers a tenant and leaves it `provisioning`. */
  register(input: TenantSeed): Promise<TenantEntity> {
    return this.lifecycle.provision(new ProvisionTenantCommand(input));
  }

  /** Registers a tenant and provisions it to `active`. */
  async activate(input: TenantSeed): Promise<TenantEntity> {
    const tenant = await this.register(input);
    await this.context.get(ProvisioningSaga).run(tenant.id);
    return waitForTenantStatus(this.registry, tenant.id, ['active']);
  }

  async close(): Promise<void> {
    // The jobs nobody ran stay in Redis otherwise.
    await this.context.get<Queue>(getQueueToken(PROVISIONING_QUEUE)).obliterate({ force: true });
    await this.context.close();
  }
}

/** Which tenants a test platform starts with, by the state each is left in (created in this order). */
export interface TenantSeeds {
  active: TenantSeed[];
  /** Provisioned to active, then suspended. */
  suspended?: TenantSeed[];
  /** Registered only: they stay `provisioning`. */
  provisioning?: TenantSeed[];
}

/**
 * Two active tenants, one suspended, one still provisioning: every answer the tenant resolver gives.
 * Links on http and port 3000, so tests can tell configured links from defaults.
 */
export const FOUR_TENANTS: TenantSeeds & { env: Record<string, string> } = {
  env: { TOWNHALL_PUBLIC_SCHEME: 'http', TOWNHALL_PUBLIC_PORT: '3000' },
  active: [
    {
      slug: 'alpha',
      domain: 'social.alpha.example',
      displayName: 'Alpha Ministry',
      adminEmail: 'press@alpha.example',
    },
    {
      slug: 'beta',
      domain: 'social.beta.example',
      displayName: 'Beta Agency',
      adminEmail: 'comms@beta.example',
    },
  ],
  suspended: [
    { slug: 'gamma', domain: 'social.gamma.example', displayName: 'Gamma', adminEmail: 'a@gamma.example' },
  ],
  provisioning: [
    { slug: 'delta', domain: 'social.delta.example', displayName: 'Delta', adminEmail: 'a@delta.example' },
  ],
};

/** A database of the test's own, migrated, with its tenants in place and the provisioning side beside it. */
export interface TenantPlatform {
  config: TownhallConfig;
  provisioner: Provisioner;
  /** The tenants as they were left, by slug. */
  tenants: Record<string, TenantEntity>;
  /** Closes the provisioning side and drops the database. */
  close(): Promise<void>;
}

export async function startTenantPlatform(
  seeds: TenantSeeds & { env?: Record<string, string> },
): Promise<TenantPlatform> {
  const { config, drop } = await createTestDatabase(seeds.env);
  let provisioner: Provisioner | undefined;
  const close = async (): Promise<void> => {
    try {
      await provisioner?.close();
    } finally {
      await drop();
    }
  };
  try {
    await preparePlatform(config, { migrate: true });
    provisioner = await Provisioner.start(config);
    const tenants: Record<string, TenantEntity> = {};
    for (const seed of seeds.active) tenants[seed.slug] = await provisioner.activate(seed);
    for (const seed of seeds.suspended ?? []) {
      const activated = await provisioner.activate(seed);
      tenants[seed.slug] = await provisioner.lifecycle.suspend(activated.id);
    }
    for (const seed of seeds.provisioning ?? []) tenants[seed.slug] = await provisioner.register(seed);
    return { config, provisioner, tenants, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** One HTTP app over a tenant platform, as the tests of the tenant-facing apps use it. */
export interface TenantApp extends TenantPlatform {
  app: INestApplication;
  /** A GET to the app as if sent to `host` (the `Host` header picks the tenant). */
  get(path: string, host: string): request.Test;
  /** Closes the app, then the platform. */
  close(): Promise<void>;
}

export async function startTenantApp(
  seeds: TenantSeeds & { env?: Record<string, string> },
  root: (config: TownhallConfig) => DynamicModule,
  mount?: (app: INestApplication) => void,
): Promise<TenantApp> {
  const platform = await startTenantPlatform(seeds);
  let app: INestApplication;
  try {
    app = await startHttpApp(root(platform.config), mount);
  } catch (err) {
    await platform.close();
    throw err;
  }
  return {
    ...platform,
    app,
    get: (path, host) => request(app.getHttpServer()).get(path).set('Host', host),
    close: async () => {
      try {
        await app.close();
      } finally {
        await platform.close();
      }
    },
  };
}

/**
 * Asserts an RFC 9457 problem response with the given status (and code) that leaks no internals: no
 * stack, no SQL, no source locations, no connection errors. Returns the problem's body.
 */
/**
 * Asserts an error of a tenant's paths as Mastodon shapes it: `application/json`, `{"error": …}`, and
 * no internals. Returns the error text.
 */
export function expectMastodonError(res: Response, status: number, error?: RegExp | string): string {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toEqual({ error: expect.any(String) });
  if (error !== undefined) expect(body.error).toMatch(error);
  expect(res.text).not.toMatch(
    /\n\s+at |\bat [A-Za-z.]+ \(|QueryFailedError|\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b|\.ts:\d+|ECONNREFUSED/,
  );
  expect(res.headers['x-request-id']).toEqual(expect.any(String));
  return body.error as string;
}

export function expectProblem(res: Response, status: number, code?: string): Record<string, unknown> {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
  if (code !== undefined) expect(body.code).toBe(code);
  expect(body).not.toHaveProperty('stack');
  expect(res.text).not.toMatch(
    /\n\s+at |\bat [A-Za-z.]+ \(|QueryFailedError|\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b|\.ts:\d+|ECONNREFUSED/,
  );
  expect(res.headers['x-request-id']).toEqual(expect.any(String));
  return body;
}
