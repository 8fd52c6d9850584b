import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { ProvisionTenantCommand, ProvisioningModule, TenantLifecycle } from '@townhall/provisioning';
import { TenantRegistry } from '@townhall/tenancy';
import { createTestDatabase } from '../support/database';
import { waitForTenantStatus } from '../support/tenants';

describe('tenant provisioning (real PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;
  let lifecycle: TenantLifecycle;
  let registry: TenantRegistry;
  let ds: DataSource;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    await preparePlatform(config, { migrate: true });
    const moduleRef = await Test.createTestingModule({
      imports: [PlatformModule.forRoot(config), ProvisioningModule],
    }).compile();
    app = await moduleRef.init();
    lifecycle = app.get(TenantLifecycle);
    registry = app.get(TenantRegistry);
    ds = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('provisions a tenant to active with its schema, instance actor and owner', async () => {
    const created = await lifecycle.provision(
      new ProvisionTenantCommand({ slug: 'bmi', domain: 'Social.BMI.Example.', displayName: 'Ministry', adminEmail: 'press@bmi.example' }),
    );
    expect(created.status).toBe('provisioning');
    const tenant = await waitForTenantStatus(registry, created.id, ['active', 'failed']);
    expect(tenant).toMatchObject({ status: 'active', provisioningStep: 'active', migrationVersion: 1 });
    const accounts = await ds.query(`SELECT username, actor_type FROM ${tenant.schemaName}.accounts ORDER BY id`);
    expect(accounts).toEqual([
      { username: 'social.bmi.example', actor_type: 'Application' },
      { username: 'press', actor_type: 'Person' },
    ]);
    const [key] = await ds.query(`SELECT private_key_sealed, public_key_pem FROM ${tenant.schemaName}.actor_keys`);
    expect(key.public_key_pem).toContain('BEGIN PUBLIC KEY');
    expect(key.private_key_sealed).not.toContain('PRIVATE KEY');
  });
});
