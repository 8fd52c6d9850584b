import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import request from 'supertest';
import { TownhallConfig } from '@townhall/core';
import { quoteIdent, withDefaultUser } from '@townhall/persistence';
import { preparePlatform } from '@townhall/platform';
import { InstanceAppModule } from '../../apps/instance/src/instance-app.module';
import { ADMIN_URL, createTestDatabase } from '../support/database';
import { expectProblem, startHttpApp } from './instance-support';

/**
 * docs/operations.md, "Health, metrics and logs": `/health/ready` is ready only while PostgreSQL
 * answers, and says which check failed without its cause; `/health/live` is about the process alone.
 * PostgreSQL stops answering this process when its database refuses new connections and the ones it
 * had are ended.
 */
describe('readiness when PostgreSQL goes away (real PostgreSQL, over HTTP)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let name: string;
  let app: INestApplication;
  let admin: Client;

  const ready = () => request(app.getHttpServer()).get('/health/ready');

  async function allowConnections(allow: boolean): Promise<void> {
    await admin.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS ${allow}`);
    if (!allow) {
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [name]);
    }
  }

  beforeAll(async () => {
    ({ config, drop, name } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' }));
    await preparePlatform(config, { migrate: true });
    app = await startHttpApp(InstanceAppModule.forRoot(config));
    admin = new Client({ connectionString: withDefaultUser(ADMIN_URL) });
    await admin.connect();
  });

  afterAll(async () => {
    await allowConnections(true).catch(() => undefined);
    await admin?.end();
    await app?.close();
    await drop?.();
  });

  it('is not ready while PostgreSQL does not answer, and ready again once it does', async () => {
    await ready().expect(200);
    await allowConnections(false);
    try {
      const res = await ready();
      const body = expectProblem(res, 503, 'not_ready');
      expect(body.checks).toMatchObject({
        database: { status: 'down', message: 'PostgreSQL is not answering' },
        redis: { status: 'up' },
      });
      expect(res.text).not.toContain(name);
      await request(app.getHttpServer()).get('/health/live').expect(200);
    } finally {
      await allowConnections(true);
    }
    await ready().expect(200);
  });
});
