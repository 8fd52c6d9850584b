import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import type { TownhallConfig } from '@townhall/core';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { ProvisioningModule, ProvisionTenantCommand, TenantLifecycle } from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';
import { actingAs } from './audit';
import { waitForStatus } from './wait';

/** Polls the registry until the tenant reaches one of `statuses`, or fails after `timeoutMs`. */
export function waitForTenantStatus(
  registry: TenantRegistry,
  tenantId: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<TenantEntity> {
  return waitForStatus(() => registry.findById(tenantId), statuses, {
    timeoutMs,
    what: `Tenant ${tenantId}`,
  });
}

export interface ProvisioningContext {
  app: INestApplicationContext;
  lifecycle: TenantLifecycle;
  registry: TenantRegistry;
  ds: DataSource;
}

/**
 * The platform runtime with the tenant lifecycle on a test database, migrated: what the control plane
 * runs, without HTTP. Workers run in it when `config.provisioning.workers` is on.
 */
export async function startProvisioningContext(config: TownhallConfig): Promise<ProvisioningContext> {
  await preparePlatform(config, { migrate: true });
  const moduleRef = await Test.createTestingModule({
    imports: [PlatformModule.forRoot(config), ProvisioningModule],
  }).compile();
  const app = await moduleRef.init();
  return {
    app,
    lifecycle: actingAs(app.get(TenantLifecycle)),
    registry: app.get(TenantRegistry),
    ds: app.get(DataSource),
  };
}

/**
 * Provisions tenant `slug` (domain `<slug>.example`, owner `press@<slug>.example`) and waits until a
 * worker of `platform` has made it active.
 */
export async function provisionActiveTenant(
  platform: ProvisioningContext,
  slug: string,
): Promise<TenantEntity> {
  const tenant = await platform.lifecycle.provision(
    new ProvisionTenantCommand({
      slug,
      domain: `${slug}.example`,
      displayName: slug,
      adminEmail: `press@${slug}.example`,
    }),
  );
  return waitForTenantStatus(platform.registry, tenant.id, ['active']);
}
