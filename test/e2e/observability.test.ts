import { createServer } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { LATEST_TENANT_VERSION, withDefaultUser } from '@townhall/persistence';
import { TenantEntity } from '@townhall/tenancy';
import { FederationGatewayAppModule } from '../../apps/federation-gateway/src/federation-gateway-app.module';
import { InstanceAppModule } from '../../apps/instance/src/instance-app.module';
import { expectProblem, Provisioner, startHttpApp, startTenantApp, TenantApp } from './instance-support';

/** A port on which nothing listens: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('observability: health probes and metrics (real PostgreSQL and Redis, over HTTP)', () => {
  let instance: TenantApp;
  let config: TownhallConfig;
  let provisioner: Provisioner;
  let app: INestApplication;
  let alpha: TenantEntity;

  const get = (path: string, host = 'social.alpha.example') => instance.get(path, host);
  /** Health and metrics answer on the platform's own addresses: an IP literal, or a platform host. */
  const ops = (path: string, host = '127.0.0.1') => instance.get(path, host);

  beforeAll(async () => {
    // One tenant in each state the metrics and the readiness probe count differently.
    instance = await startTenantApp(
      {
        active: [
          {
            slug: 'alpha',
            domain: 'social.alpha.example',
            displayName: 'Alpha',
            adminEmail: 'press@alpha.example',
          },
        ],
        suspended: [
          { slug: 'beta', domain: 'social.beta.example', displayName: 'Beta', adminEmail: 'a@beta.example' },
        ],
        provisioning: [
          {
            slug: 'gamma',
            domain: 'social.gamma.example',
            displayName: 'Gamma',
            adminEmail: 'a@gamma.example',
          },
        ],
      },
      (cfg) => InstanceAppModule.forRoot(cfg),
    );
    ({ config, provisioner, app } = instance);
    alpha = instance.tenants.alpha;
  });

  afterAll(async () => {
    await instance?.close();
  });

  describe('/health/live', () => {
    it('answers on platform addresses without resolving a tenant', async () => {
      await ops('/health/live').expect(200, { status: 'ok' });
      await ops('/health/live', '127.0.0.1:3000').expect(200, { status: 'ok' });
      await ops('/health/live', '[::1]:3000').expect(200, { status: 'ok' });
      await ops('/health/live', 'localhost').expect(200, { status: 'ok' });
    });
  });

  describe('operations endpoints on tenant domains', () => {
    it('are not there, whatever the spelling of the path', async () => {
      for (const path of [
        '/metrics',
        '/METRICS',
        '/health/ready',
        '/HEALTH/READY',
        '/Health/Live',
        '/health/live/',
        '/metrics/',
      ]) {
        for (const host of ['social.alpha.example', 'social.beta.example', 'nobody.example']) {
          const res = await get(path, host);
          // 404, or the tenant's own 503 when it is suspended: never the platform's answer.
          expect([404, 503]).toContain(res.status);
          expect(res.text).not.toMatch(/http_requests_total|"status":"ok"/);
        }
      }
    });

    it('routing is exact on tenant paths too: no case or slash folding', async () => {
      await get('/api/v1/instance').expect(200);
      await get('/API/V1/INSTANCE').expect(404);
      await get('/api/v1/instance/').expect(404);
      await get('//api/v1/instance').expect(404);
    });
  });

  describe('/health/ready', () => {
    it('is ready when PostgreSQL and Redis answer and every schema is migrated, and reports the counts', async () => {
      const res = await ops('/health/ready').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({
        status: 'ok',
        details: {
          database: { status: 'up' },
          redis: { status: 'up' },
          migrations: {
            status: 'up',
            platform: { pending: false },
            // The active and the suspended tenant; the one still provisioning is not counted.
            tenantSchemas: { latestVersion: LATEST_TENANT_VERSION, total: 2, behind: 0, ahead: 0 },
          },
        },
      });
    });

    it('is not ready (503 problem) while a tenant schema is behind the latest tenant migration', async () => {
      const ds = app.get(DataSource);
      await ds.query(`UPDATE platform.tenants SET migration_version = $2 WHERE id = $1`, [
        alpha.id,
        LATEST_TENANT_VERSION - 1,
      ]);
      try {
        const body = expectProblem(await ops('/health/ready'), 503, 'not_ready');
        expect(body.checks).toMatchObject({
          database: { status: 'up' },
          redis: { status: 'up' },
          migrations: {
            status: 'down',
            platform: { pending: false },
            tenantSchemas: { total: 2, behind: 1 },
          },
        });
      } finally {
        await ds.query(`UPDATE platform.tenants SET migration_version = $2 WHERE id = $1`, [
          alpha.id,
          LATEST_TENANT_VERSION,
        ]);
      }
      await ops('/health/ready').expect(200);
    });

    it('is not ready (503 problem) while platform migrations are pending', async () => {
      // The migration history is the owner's: the application's role may only read it.
      const owner = new Client({ connectionString: withDefaultUser(config.database.url) });
      await owner.connect();
      const { rows: applied } = await owner.query<{ id: number; timestamp: string; name: string }>(
        `DELETE FROM platform.migrations RETURNING id, timestamp, name`,
      );
      try {
        const body = expectProblem(await ops('/health/ready'), 503, 'not_ready');
        expect(body.checks).toMatchObject({ migrations: { status: 'down', platform: { pending: true } } });
      } finally {
        for (const m of applied) {
          await owner.query(`INSERT INTO platform.migrations (id, timestamp, name) VALUES ($1, $2, $3)`, [
            m.id,
            m.timestamp,
            m.name,
          ]);
        }
        await owner.end();
      }
      await ops('/health/ready').expect(200);
    });

    it('is not ready (503 problem) when the application role cannot use a serving tenant schema', async () => {
      // What a start with another role's name used to do to a running process: the tenant's schema
      // given to someone else, so every request of the tenant failed while the probe stayed green.
      const owner = new Client({ connectionString: withDefaultUser(config.database.url) });
      await owner.connect();
      const other = `th_other_${process.pid}`;
      const schema = alpha.schemaName;
      await owner.query(`CREATE ROLE ${other} NOLOGIN`);
      try {
        await owner.query(`ALTER SCHEMA ${schema} OWNER TO ${other}`);
        const res = await ops('/health/ready');
        const body = expectProblem(res, 503, 'not_ready');
        expect(body.checks).toMatchObject({
          database: { status: 'up' },
          migrations: { status: 'up' },
          tenantAccess: {
            status: 'down',
            message: 'The application cannot use every serving tenant schema',
            total: 2,
            unusable: 1,
          },
        });
        expect(res.text).not.toContain(schema);
        expect(res.text).not.toContain(other);
        // The schema is the application's again, but one of its tables is not.
        await owner.query(`ALTER SCHEMA ${schema} OWNER TO ${config.database.appRole}`);
        await ops('/health/ready').expect(200);
        await owner.query(`ALTER TABLE ${schema}.accounts OWNER TO ${other}`);
        expect(expectProblem(await ops('/health/ready'), 503, 'not_ready').checks).toMatchObject({
          tenantAccess: { status: 'down', unusable: 1 },
        });
      } finally {
        await owner.query(`ALTER SCHEMA ${schema} OWNER TO ${config.database.appRole}`);
        await owner.query(`ALTER TABLE ${schema}.accounts OWNER TO ${config.database.appRole}`);
        await owner.query(`DROP ROLE ${other}`);
        await owner.end();
      }
      const res = await ops('/health/ready').expect(200);
      expect(res.body.details.tenantAccess).toEqual({ status: 'up', total: 2, unusable: 0 });
    });

    it('is not ready (503 problem) when Redis does not answer, and says so without internals', async () => {
      const port = await closedPort();
      const broken = await startHttpApp(
        InstanceAppModule.forRoot({
          ...config,
          redis: { ...config.redis, url: `redis://127.0.0.1:${port}` },
        }),
      );
      try {
        const res = await request(broken.getHttpServer()).get('/health/ready');
        const body = expectProblem(res, 503, 'not_ready');
        expect(body.checks).toMatchObject({
          database: { status: 'up' },
          redis: { status: 'down', message: 'Redis is not answering' },
          migrations: { status: 'up' },
        });
        expect(res.text).not.toContain(String(port));
        expect(res.text).not.toContain('127.0.0.1');
        // Liveness is about the process alone and stays green.
        await request(broken.getHttpServer()).get('/health/live').expect(200);
      } finally {
        await broken.close();
      }
    });
  });

  describe('/metrics', () => {
    it('counts requests by method, route template and status, and never by host or raw path', async () => {
      /** The value of one series in a scrape, 0 when absent. */
      const series = (text: string, name: string, labels: string) => {
        const escaped = `${name}{${labels}}`.replace(/[{}()[\]\\.^$|?*+]/g, '\\$&');
        const match = new RegExp(`^${escaped} (\\d+)$`, 'm').exec(text);
        return match ? Number(match[1]) : 0;
      };
      const counted = (text: string, route: string, status: number) =>
        series(text, 'http_requests_total', `method="GET",route="${route}",status="${status}"`);
      const before = (await ops('/metrics').expect(200)).text;

      await get('/api/v2/instance').expect(200);
      await get('/api/v2/instance').expect(200);
      await get('/api/v1/instance').expect(200);
      await get('/api/v2/instance', 'unknown.tenant.example').expect(404);
      await get('/api/v2/instance', 'social.beta.example').expect(503);
      await get('/no/such/page/secret-token-1234', 'social.alpha.example').expect(404);

      const res = await ops('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = res.text;
      const delta = (route: string, status: number) =>
        counted(text, route, status) - counted(before, route, status);
      expect(delta('/api/v2/instance', 200)).toBe(2);
      expect(delta('/api/v1/instance', 200)).toBe(1);
      // Refused before the handler (unknown host, suspended tenant): still labelled with the route template.
      expect(delta('/api/v2/instance', 404)).toBe(1);
      expect(delta('/api/v2/instance', 503)).toBe(1);
      expect(delta('unmatched', 404)).toBe(1);
      expect(text).toMatch(
        /^http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/api\/v2\/instance",status="200"\} \d+$/m,
      );
      expect(
        series(
          text,
          'http_request_duration_seconds_count',
          'method="GET",route="/api/v2/instance",status="200"',
        ) -
          series(
            before,
            'http_request_duration_seconds_count',
            'method="GET",route="/api/v2/instance",status="200"',
          ),
      ).toBe(2);
      expect(text).not.toMatch(/example|secret-token|alpha|beta/);
    });

    it('reports tenants by status, refreshed on each scrape', async () => {
      let text = (await ops('/metrics').expect(200)).text;
      expect(text).toMatch(/^townhall_tenants\{status="active"\} 1$/m);
      expect(text).toMatch(/^townhall_tenants\{status="suspended"\} 1$/m);
      expect(text).toMatch(/^townhall_tenants\{status="provisioning"\} 1$/m);
      expect(text).toMatch(/^townhall_tenants\{status="deleted"\} 0$/m);
      await provisioner.lifecycle.suspend(alpha.id);
      try {
        text = (await ops('/metrics').expect(200)).text;
        expect(text).toMatch(/^townhall_tenants\{status="active"\} 0$/m);
        expect(text).toMatch(/^townhall_tenants\{status="suspended"\} 2$/m);
      } finally {
        await provisioner.lifecycle.resume(alpha.id);
      }
    });

    it('includes the default process metrics', async () => {
      const { text } = await ops('/metrics').expect(200);
      expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    });

    it('is served by the federation gateway too, with its own routes', async () => {
      const gateway = await startHttpApp(FederationGatewayAppModule.forRoot(config));
      try {
        await request(gateway.getHttpServer())
          .get('/nodeinfo/2.1')
          .set('Host', 'social.alpha.example')
          .expect(200);
        const { text } = await request(gateway.getHttpServer()).get('/metrics').expect(200);
        expect(text).toMatch(
          /^http_requests_total\{method="GET",route="\/nodeinfo\/2\.1",status="200"\} 1$/m,
        );
        await request(gateway.getHttpServer()).get('/health/ready').expect(200);
      } finally {
        await gateway.close();
      }
    });
  });
});
