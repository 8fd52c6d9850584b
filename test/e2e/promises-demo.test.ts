import { randomBytes } from 'node:crypto';
import { getQueueToken } from '@nestjs/bull';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bull';
import { Client } from 'pg';
import { TownhallConfig } from '@townhall/core';
import { withDefaultUser } from '@townhall/persistence';
import { AuthModule } from '@townhall/auth';
import { AuditStore } from '@townhall/compliance';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { PROVISIONING_QUEUE, ProvisioningModule } from '@townhall/provisioning';
import { TenancyModule } from '@townhall/tenancy';
import { DemoTenant } from '../../apps/townhall/src/demo-tenant';
import { exportedLog } from '../support/audit';
import { createTestDatabase } from '../support/database';
import { ENTRY, processEnv, startProcess } from '../support/processes';

/**
 * README, `TOWNHALL_DEMO`: the all-in-one process provisions a demo tenant only when the platform has
 * no tenant, and not at all with the setting off. (That it does on a fresh platform, the quick start
 * test shows.) Each case is a real `npm start` process, stopped once it printed its addresses — which
 * it does after deciding about the demo tenant.
 */
jest.setTimeout(120_000);

describe('the demo tenant of the all-in-one process (real process, PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let db: Client;

  const tenants = async (): Promise<{ slug: string }[]> =>
    (await db.query(`SELECT slug FROM platform.tenants ORDER BY id`)).rows as { slug: string }[];

  /** Starts the all-in-one with `env`, waits for its summary, stops it and returns what it printed. */
  async function start(env: Record<string, string>): Promise<string> {
    const townhall = await startProcess(ENTRY.allInOne, processEnv(config, { PORT: '0', ...env }), {
      readyLine: /Health:/,
    });
    await townhall.stop();
    return townhall.stdout();
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    db = new Client({ connectionString: withDefaultUser(config.database.url) });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await drop?.();
  });

  /** What the audit log holds (sequenced or not), as the owner reads it. */
  const recorded = async (action: string): Promise<{ actor: unknown }[]> =>
    (
      await db.query(
        `SELECT entry FROM platform.audit_pending UNION ALL SELECT entry FROM platform.audit_entries`,
      )
    ).rows
      .map((r: { entry: string }) => JSON.parse(r.entry) as { action: string; actor: unknown })
      .filter((e) => e.action === action);

  it('provisions none with TOWNHALL_DEMO=false, even on an empty platform', async () => {
    expect(await tenants()).toEqual([]);
    const printed = await start({ TOWNHALL_DEMO: 'false' });
    expect(printed).toContain('Operator API:');
    expect(printed).not.toContain('Demo tenant');
    expect(await tenants()).toEqual([]);
    // Outside production the first start prints a first operator token, created by the demo part.
    expect(printed).toMatch(/Operator token \(shown once, keep it\): thop_/);
    expect(await recorded('operator.create')).toEqual([
      expect.objectContaining({ actor: { type: 'system', id: 'demo' } }),
    ]);
  });

  it('provisions none when the platform already has a tenant', async () => {
    await db.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name)
       SELECT id, 'existing', 'Existing', 'a@existing.example', 'failed', 'default', 'tenant_' || id
         FROM (SELECT platform.next_id() AS id) s`,
    );
    // And an operator: the token is printed once, on the start that created the first one.
    await db.query(
      `INSERT INTO platform.operators (name, token_hash, token_hint) VALUES ('someone', $1, '…abcd')
       ON CONFLICT (name) DO NOTHING`,
      [randomBytes(32)],
    );
    const printed = await start({ TOWNHALL_DEMO: 'true' });
    expect(printed).toContain('Operator API:');
    expect(printed).not.toContain('Demo tenant');
    expect(printed).not.toContain('Operator token');
    expect(await tenants()).toEqual([{ slug: 'existing' }]);
  });
});

describe('the demo tenant’s audit entry (real PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;

  beforeAll(async () => {
    // Workers off: the registration is what is recorded as the demo part's; a worker provisions it.
    ({ config, drop } = await createTestDatabase({ TOWNHALL_WORKERS: 'false' }));
    await preparePlatform(config, { migrate: true });
    app = await (
      await Test.createTestingModule({
        imports: [PlatformModule.forRoot(config), AuthModule, TenancyModule, ProvisioningModule],
        providers: [DemoTenant],
      }).compile()
    ).init();
  });

  afterAll(async () => {
    await app?.get<Queue>(getQueueToken(PROVISIONING_QUEUE)).obliterate({ force: true });
    await app?.close();
    await drop?.();
  });

  it('registers the demo tenant as the system actor demo', async () => {
    const said: string[] = [];
    await app.get(DemoTenant).ensure((line) => said.push(line));
    expect(said[0]).toBe('Provisioning the demo tenant at demo.localhost …');
    const created = (await exportedLog(app.get(AuditStore))).entries.filter(
      (e) => e.action === 'tenant.create',
    );
    expect(created).toEqual([
      expect.objectContaining({
        actor: { type: 'system', id: 'demo' },
        outcome: 'success',
        details: expect.objectContaining({ slug: 'demo', domain: 'demo.localhost' }),
      }),
    ]);
  });
});
