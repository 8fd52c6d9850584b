import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditEntry, AuditStore } from '@townhall/compliance';
import type { TownhallConfig } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { createTestDatabase } from '../support/database';
import { startControlPlane } from './operator-support';

/** A control plane on a database of its own, with an operator token and registered tenants. */
export interface RegulatorTestPlatform {
  config: TownhallConfig;
  app: INestApplication;
  http: Server;
  ds: DataSource;
  /** The bootstrap operator's Authorization header. */
  operator: { Authorization: string };
  /** Ids of the tenants registered at start, in the order of their slugs. */
  tenantIds: string[];
  close(): Promise<void>;
}

/**
 * Starts the control plane (workers off: tenants stay `provisioning`, which is all a regulator's scope
 * needs, and no sequencer runs behind the test's back) and registers one tenant per slug.
 */
export async function startRegulatorPlatform(
  slugs: string[],
  env: Record<string, string> = {},
): Promise<RegulatorTestPlatform> {
  const token = `regulator-test-${randomBytes(16).toString('hex')}`;
  const { config, drop } = await createTestDatabase({
    TOWNHALL_OPERATOR_TOKEN: token,
    TOWNHALL_WORKERS: 'false',
    TOWNHALL_RATE_LIMIT: '100000',
    ...env,
  });
  await preparePlatform(config, { migrate: true });
  const app = await startControlPlane(config);
  const http = app.getHttpServer() as Server;
  const operator = { Authorization: `Bearer ${token}` };
  const tenantIds: string[] = [];
  for (const slug of slugs) {
    const res = await request(http)
      .post('/api/platform/v1/tenants')
      .set(operator)
      .send({ slug, domain: `social.${slug}.example`, displayName: slug, adminEmail: `a@${slug}.example` });
    if (res.status !== 202) throw new Error(`registering ${slug}: ${res.status} ${res.text}`);
    tenantIds.push((res.body as { id: string }).id);
  }
  return {
    config,
    app,
    http,
    ds: app.get(DataSource),
    operator,
    tenantIds,
    close: async () => {
      try {
        await app.close();
      } finally {
        await drop();
      }
    },
  };
}

/**
 * Everything the audit log holds now, as a regulator would see it: a checkpoint is signed first (so
 * pending entries are sequenced and exportable), then the whole log is exported through the store.
 */
export async function loggedEntries(app: INestApplicationContext): Promise<AuditEntry[]> {
  const store = app.get(AuditStore);
  await store.checkpointNow();
  const entries: AuditEntry[] = [];
  for await (const line of store.exportBundle({})) {
    const parsed = JSON.parse(line) as { type: string; entry?: AuditEntry };
    if (parsed.type === 'entry') entries.push(parsed.entry!);
  }
  return entries;
}
