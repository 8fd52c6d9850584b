import { FakeDataSource, fakeAuditStack, type FakeAuditStack } from '@townhall/compliance/testing';
import { hostSkeleton, loadConfig, type TownhallConfig } from '@townhall/core';
import { TENANT_STATUSES, type TenantEntity, type TenantStatus } from '@townhall/tenancy';
import { DeleteTenantCommand, ProvisionTenantCommand } from './commands';
import { DropTenantSchemaJob, ProvisionTenantJob } from './provisioning.queue';
import { TenantLifecycle } from './tenant-lifecycle';
import { actingAs } from '../../../test/support/audit';

/**
 * The lifecycle's rules with its collaborators replaced: the SQL it sends and what it answers. Its
 * audited transactions are the real ones on the audit log's in-memory fakes, whose transactions use
 * `manager`.
 */
describe('TenantLifecycle', () => {
  const manager = { query: jest.fn() };
  const registry = { lockById: jest.fn(), findById: jest.fn() };
  const queue = { add: jest.fn() };
  const changes = { announce: jest.fn() };
  let audit: FakeAuditStack;

  function lifecycle(env: Record<string, string> = {}): TenantLifecycle {
    const config: TownhallConfig = loadConfig({
      NODE_ENV: 'test',
      TOWNHALL_PLATFORM_HOSTS: 'ops.platform.example',
      ...env,
    });
    return actingAs(
      new TenantLifecycle(registry as never, queue as never, audit.audited, changes as never, config),
    );
  }

  const tenant = (fields: Partial<TenantEntity>) =>
    ({ id: '4711', status: 'active', provisioningAttempts: 0, ...fields }) as TenantEntity;

  beforeEach(() => {
    jest.resetAllMocks();
    audit = fakeAuditStack(new FakeDataSource(manager));
  });

  describe('provision', () => {
    /** The registry's answers: nothing taken, and `lookAlike` holding a domain that looks the same. */
    const registryHolds = (lookAlike: string | null) =>
      manager.query.mockImplementation(async (sql: string) =>
        sql.includes('EXISTS')
          ? [{ slug: false, domain: false, lookAlike }]
          : sql.includes('next_id')
            ? [{ id: '4711' }]
            : [],
      );

    const command = (domain: string) =>
      new ProvisionTenantCommand({
        slug: 'bmi',
        domain,
        displayName: 'Ministry',
        adminEmail: 'a@bmi.example',
      });

    it('registers the tenant with its domain’s skeleton and answers with the row it wrote', async () => {
      registryHolds(null);
      registry.findById.mockResolvedValue(tenant({ status: 'provisioning' }));
      const created = await lifecycle().provision(command('social.bmi.example'));
      expect(created.status).toBe('provisioning');
      expect(registry.findById).toHaveBeenCalledWith('4711', manager);
      // Every process's tenant directory hears of it, after the commit.
      expect(changes.announce).toHaveBeenCalledWith('4711');
      expect(manager.query).toHaveBeenCalledWith(
        expect.stringContaining('INSERT INTO platform.tenant_domains'),
        ['social.bmi.example', '4711', hostSkeleton('social.bmi.example')],
      );
      expect(queue.add).toHaveBeenCalledTimes(1);
    });

    it('refuses a look-alike of another tenant’s domain, naming it', async () => {
      registryHolds('social.cop.example');
      await expect(lifecycle().provision(command('social.c0p.example'))).rejects.toMatchObject({
        code: 'domain_confusable',
        detail: expect.stringContaining('"social.cop.example"'),
      });
      expect(queue.add).not.toHaveBeenCalled();
    });

    it.each(['ops.platform.example', 'x.ops.platform.example', 'localhost'])(
      'refuses the reserved domain %p before looking at the registry',
      async (domain) => {
        await expect(lifecycle().provision(command(domain))).rejects.toMatchObject({
          code: 'domain_reserved',
        });
        expect(manager.query).not.toHaveBeenCalled();
      },
    );

    it('refuses localhost in development too, and allows its subdomains and siblings of platform hosts', async () => {
      await expect(
        lifecycle({ NODE_ENV: 'development' }).provision(command('localhost')),
      ).rejects.toMatchObject({ code: 'domain_reserved' });
      registryHolds(null);
      registry.findById.mockResolvedValue(tenant({ status: 'provisioning' }));
      await expect(lifecycle().provision(command('demo.localhost'))).resolves.toBeDefined();
      await expect(lifecycle().provision(command('social.platform.example'))).resolves.toBeDefined();
    });
  });

  describe('transitions', () => {
    it('answer with the tenant read under the transaction’s lock, not after the commit', async () => {
      registry.lockById.mockResolvedValue(tenant({ status: 'active' }));
      registry.findById.mockResolvedValue(tenant({ status: 'suspended' }));
      const answer = await lifecycle().suspend('4711', 'court order');
      expect(answer.status).toBe('suspended');
      expect(registry.findById).toHaveBeenCalledTimes(1);
      expect(registry.findById).toHaveBeenCalledWith('4711', manager);
    });

    it('store a suspension reason under the text rule, normalised', async () => {
      registry.lockById.mockResolvedValue(tenant({ status: 'active' }));
      registry.findById.mockResolvedValue(tenant({ status: 'suspended' }));
      await lifecycle().suspend('4711', '  Cafe\u0301 closed  ');
      expect(manager.query).toHaveBeenCalledWith(expect.stringContaining("status = 'suspended'"), [
        '4711',
        'Café closed',
      ]);
    });

    it.each(['', '   ', 'court\u0000order', 'order \u202egnp.exe', 'x'.repeat(501)])(
      'refuse the suspension reason %p before opening a transaction',
      async (reason) => {
        await expect(lifecycle().suspend('4711', reason)).rejects.toMatchObject({ code: 'invalid_command' });
        expect(audit.dataSource.transactions).toBe(0);
        expect(audit.store.entries()).toEqual([]);
      },
    );

    it('delete after the grace period given, and purge at once only when asked', async () => {
      registry.lockById.mockResolvedValue(tenant({ status: 'active' }));
      const soon = new Date(Date.now() + 3_600_000);
      registry.findById.mockResolvedValueOnce(tenant({ status: 'deleting', deleteAfter: soon }));
      await lifecycle().delete('4711', new DeleteTenantCommand({ graceSeconds: 3600 }));
      expect(manager.query).toHaveBeenLastCalledWith(expect.stringContaining("status = 'deleting'"), [
        '4711',
        3600,
      ]);
      expect(queue.add).toHaveBeenLastCalledWith(
        DropTenantSchemaJob.name,
        { tenantId: '4711' },
        expect.objectContaining({ delay: expect.any(Number) }),
      );
      expect(queue.add.mock.calls[0][2].delay).toBeGreaterThan(3_500_000);

      registry.findById.mockResolvedValueOnce(tenant({ status: 'deleting', deleteAfter: new Date() }));
      await lifecycle().delete('4711', new DeleteTenantCommand({ purgeImmediately: true }));
      expect(manager.query).toHaveBeenLastCalledWith(expect.stringContaining("status = 'deleting'"), [
        '4711',
        0,
      ]);
      expect(queue.add.mock.calls[1][2].delay).toBe(0);
    });

    it('delete after a week by default', async () => {
      registry.lockById.mockResolvedValue(tenant({ status: 'suspended' }));
      registry.findById.mockResolvedValue(tenant({ status: 'deleting', deleteAfter: new Date() }));
      await lifecycle().delete('4711');
      expect(manager.query).toHaveBeenLastCalledWith(expect.any(String), ['4711', 7 * 24 * 3600]);
    });

    it('refuse a status that does not allow the action, writing nothing', async () => {
      registry.lockById.mockResolvedValue(tenant({ status: 'deleted' }));
      await expect(lifecycle().delete('4711')).rejects.toMatchObject({ code: 'invalid_transition' });
      expect(manager.query).not.toHaveBeenCalled();
      expect(queue.add).not.toHaveBeenCalled();
    });
  });

  /**
   * The transitions docs/operations.md draws ("Tenant lifecycle"): each action from the states the
   * diagram allows it, refused from every other state without a write or a job.
   */
  describe('which state allows which action', () => {
    const allowed: Record<string, TenantStatus[]> = {
      suspend: ['active'],
      resume: ['suspended', 'deleting'],
      retry: ['failed'],
      delete: ['active', 'suspended', 'failed', 'provisioning'],
    };
    const act = (action: string, id: string): Promise<TenantEntity> => {
      const subject = lifecycle();
      if (action === 'suspend') return subject.suspend(id);
      if (action === 'resume') return subject.resume(id);
      if (action === 'retry') return subject.retry(id);
      return subject.delete(id, new DeleteTenantCommand({ graceSeconds: 3600 }));
    };
    const cases = Object.keys(allowed).flatMap((action) =>
      TENANT_STATUSES.map((status) => [action, status, allowed[action].includes(status)] as const),
    );

    it.each(cases)('%s from %s: allowed %p', async (action, status, ok) => {
      registry.lockById.mockResolvedValue(tenant({ status, activatedAt: new Date() }));
      registry.findById.mockResolvedValue(tenant({ status: 'active', deleteAfter: new Date() }));
      if (ok) {
        await expect(act(action, '4711')).resolves.toBeDefined();
        expect(manager.query).toHaveBeenCalledWith(
          expect.stringMatching(/^UPDATE platform\.tenants/),
          expect.anything(),
        );
      } else {
        await expect(act(action, '4711')).rejects.toMatchObject({
          code: 'invalid_transition',
          extensions: { tenantStatus: status },
        });
        expect(manager.query).not.toHaveBeenCalled();
        expect(queue.add).not.toHaveBeenCalled();
      }
      // Either way on the record: the transition, or the refusal with its code.
      expect(audit.store.entries().map((e) => [e.action, e.outcome, e.details])).toEqual([
        ok
          ? [`tenant.${action}`, 'success', expect.objectContaining({ from: status })]
          : [`tenant.${action}`, 'failure', { error: 'invalid_transition' }],
      ]);
    });

    it('refuses an unknown tenant as not found', async () => {
      registry.lockById.mockResolvedValue(null);
      await expect(lifecycle().resume('4711')).rejects.toMatchObject({ code: 'tenant_not_found' });
      expect(manager.query).not.toHaveBeenCalled();
    });
  });

  describe('resume', () => {
    beforeEach(() => registry.findById.mockResolvedValue(tenant({ status: 'active' })));

    it('lifts a suspension, clearing its time and reason', async () => {
      registry.lockById.mockResolvedValue(tenant({ status: 'suspended' }));
      await lifecycle().resume('4711');
      expect(manager.query).toHaveBeenCalledWith(
        expect.stringMatching(/status = 'active', suspended_at = NULL, suspension_reason = NULL/),
        ['4711'],
      );
      expect(queue.add).not.toHaveBeenCalled();
    });

    it.each<[Partial<TenantEntity>, TenantStatus]>([
      [{ statusBeforeDeletion: 'suspended' }, 'suspended'],
      [{ statusBeforeDeletion: 'failed' }, 'failed'],
      [{ statusBeforeDeletion: null, activatedAt: new Date() }, 'active'],
      [{ statusBeforeDeletion: null, activatedAt: null }, 'provisioning'],
    ])('cancels a deletion back to the state before it (%o → %s)', async (fields, previous) => {
      registry.lockById.mockResolvedValue(tenant({ status: 'deleting', provisioningAttempts: 2, ...fields }));
      await lifecycle().resume('4711');
      expect(manager.query).toHaveBeenCalledWith(expect.stringContaining('delete_after = NULL'), [
        '4711',
        previous,
      ]);
      // A tenant whose provisioning the deletion interrupted is provisioned on, as the same attempt.
      if (previous === 'provisioning') {
        expect(queue.add).toHaveBeenCalledWith(
          ProvisionTenantJob.name,
          { tenantId: '4711' },
          expect.objectContaining({ jobId: ProvisionTenantJob.id('4711', 2) }),
        );
      } else expect(queue.add).not.toHaveBeenCalled();
    });
  });

  describe('retry', () => {
    it('provisions a failed tenant again as its next attempt, forgetting the failure', async () => {
      registry.lockById.mockResolvedValue(tenant({ status: 'failed', provisioningAttempts: 1 }));
      registry.findById.mockResolvedValue(tenant({ status: 'provisioning' }));
      await lifecycle().retry('4711');
      expect(manager.query).toHaveBeenCalledWith(expect.stringContaining('failure_reason = NULL'), [
        '4711',
        2,
      ]);
      expect(queue.add).toHaveBeenCalledWith(
        ProvisionTenantJob.name,
        { tenantId: '4711' },
        expect.objectContaining({ jobId: ProvisionTenantJob.id('4711', 2), attempts: 3 }),
      );
      // Every process's tenant directory hears of it.
      expect(changes.announce).toHaveBeenCalledWith('4711');
    });
  });
});
