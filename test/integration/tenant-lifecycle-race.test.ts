import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TownhallConfig } from '@townhall/core';
import {
  DeleteTenantCommand,
  ProvisioningSaga,
  ProvisionTenantCommand,
  TenantLifecycle,
} from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';
import { actingAs } from '../support/audit';
import { createTestDatabase } from '../support/database';
import { startProvisioningContext } from '../support/tenants';

/**
 * Each lifecycle action answers with the tenant as its own transaction wrote it, even when another
 * action — an operator's, or the worker's — commits the moment it has. The other action is run exactly
 * there: right after the transaction of the action under test commits, before that action returns. An
 * action that re-read the tenant after its commit would answer with the other action's state.
 */
describe('tenant lifecycle answers under concurrency (real PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;
  let lifecycle: TenantLifecycle;
  let registry: TenantRegistry;
  let ds: DataSource;
  let afterNextCommit: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase());
    // No worker: the test decides when the saga runs.
    config = { ...config, provisioning: { ...config.provisioning, workers: false } };
    ({ app, lifecycle, registry, ds } = await startProvisioningContext(config));
    const transaction = ds.transaction.bind(ds) as (...args: unknown[]) => Promise<unknown>;
    jest.spyOn(ds, 'transaction').mockImplementation((async (...args: unknown[]) => {
      const committed = await transaction(...args);
      const other = afterNextCommit;
      afterNextCommit = undefined;
      await other?.();
      return committed;
    }) as never);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await app?.close();
    await drop?.();
  });

  let seq = 0;
  function command(): ProvisionTenantCommand {
    seq += 1;
    return new ProvisionTenantCommand({
      slug: `race-${seq}`,
      domain: `race-${seq}.example`,
      displayName: `Race ${seq}`,
      adminEmail: `owner@race-${seq}.example`,
    });
  }

  async function activeTenant(): Promise<TenantEntity> {
    const tenant = await lifecycle.provision(command());
    await app.get(ProvisioningSaga).run(tenant.id);
    return (await registry.findById(tenant.id))!;
  }

  /** Runs `action`; `other` runs right after the action's transaction commits. Both answers are returned. */
  async function race<A, B>(action: () => Promise<A>, other: () => Promise<B>): Promise<[A, B]> {
    let otherAnswer: Promise<B> | undefined;
    afterNextCommit = () => (otherAnswer = other());
    const answer = await action();
    expect(otherAnswer).toBeDefined();
    return [answer, await otherAnswer!];
  }

  it('provision answers provisioning, though the worker activated the tenant right after the commit', async () => {
    const next = command();
    const saga = app.get(ProvisioningSaga);
    const [created, activated] = await race(
      () => lifecycle.provision(next),
      async () => {
        const [{ id }] = (await ds.query(`SELECT id::text AS id FROM platform.tenants WHERE slug = $1`, [
          next.slug,
        ])) as [{ id: string }];
        await saga.run(id);
        return (await registry.findById(id))!;
      },
    );
    expect(activated.status).toBe('active');
    expect(created).toMatchObject({ id: activated.id, status: 'provisioning', provisioningStep: null });
    expect(created.domains?.map((d) => d.domain)).toEqual([next.domain]);
  });

  it('suspend answers suspended, though a resume landed right after its commit', async () => {
    const tenant = await activeTenant();
    const [suspended, resumed] = await race(
      () => lifecycle.suspend(tenant.id, 'court order'),
      () => lifecycle.resume(tenant.id),
    );
    expect(suspended).toMatchObject({ status: 'suspended', suspensionReason: 'court order' });
    expect(suspended.suspendedAt).not.toBeNull();
    expect(resumed).toMatchObject({ status: 'active', suspensionReason: null, suspendedAt: null });
  });

  it('delete answers deleting with its due time, and resume answers active, whichever commits next', async () => {
    const tenant = await activeTenant();
    const [deleting, resumed] = await race(
      () => lifecycle.delete(tenant.id, new DeleteTenantCommand({ graceSeconds: 3600 })),
      () => actingAs(app.get(TenantLifecycle)).resume(tenant.id),
    );
    expect(deleting.status).toBe('deleting');
    expect(deleting.deleteAfter!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    expect(resumed).toMatchObject({ status: 'active', deleteAfter: null });
  });
});
