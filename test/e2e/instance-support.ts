import { getQueueToken } from '@nestjs/bull';
import { DynamicModule, INestApplication, INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bull';
import type { Response } from 'supertest';
import { configureHttpApp, TownhallConfig } from '@townhall/core';
import { PlatformModule } from '@townhall/platform';
import {
  PROVISIONING_QUEUE,
  ProvisioningModule,
  ProvisioningSaga,
  ProvisionTenantCommand,
  TenantLifecycle,
} from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';
import { waitForTenantStatus } from '../support/tenants';

/** An HTTP app as its process builds it: the root module and the shared HTTP hardening. */
export async function startHttpApp(
  root: DynamicModule,
  mount?: (app: INestApplication) => void,
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [root] }).compile();
  const app = moduleRef.createNestApplication({ bufferLogs: true });
  configureHttpApp(app);
  mount?.(app);
  await app.init();
  return app;
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
    return this.context.get(TenantLifecycle);
  }

  /** Registers a tenant and leaves it `provisioning`. */
  register(input: {
    slug: string;
    domain: string;
    displayName: string;
    adminEmail: string;
  }): Promise<TenantEntity> {
    return this.lifecycle.provision(new ProvisionTenantCommand(input));
  }

  /** Registers a tenant and provisions it to `active`. */
  async activate(input: {
    slug: string;
    domain: string;
    displayName: string;
    adminEmail: string;
  }): Promise<TenantEntity> {
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

/** Asserts an RFC 9457 problem response with the given status and code that leaks no internals. */
export function expectProblem(res: Response, status: number, code?: string): Record<string, unknown> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
  if (code !== undefined) expect(body.code).toBe(code);
  expect(res.text).not.toMatch(
    /\n\s+at |QueryFailedError|\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b|\.ts:\d+|ECONNREFUSED/,
  );
  return body;
}
