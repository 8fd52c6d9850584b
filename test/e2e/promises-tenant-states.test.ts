import { DataSource } from 'typeorm';
import { DeleteTenantCommand, TenantSchemaDropper } from '@townhall/provisioning';
import { AllInOneModule } from '../../apps/townhall/src/all-in-one.module';
import { expectMastodonError, startTenantApp, TenantApp } from './instance-support';

/**
 * docs/operations.md, "Tenant lifecycle": a tenant serves its domain only while `active`; everything
 * else answers 503 problem details, and a domain whose tenant was deleted answers 404. Asked of the
 * Mastodon client API and of the federation gateway, which share the tenant resolution. The tenant
 * cache is off, so each answer reflects the registry at that moment.
 */
describe('what a tenant domain answers in each state (real PostgreSQL and Redis, over HTTP)', () => {
  let platform: TenantApp;

  const paths = ['/api/v1/instance', '/nodeinfo/2.1'];

  /** Tenant paths answer Mastodon's error shape; the text says which refusal it is. */
  const CODES: [RegExp, string][] = [
    [/^This instance is (deleting|failed|provisioning)/, 'tenant_unavailable'],
    [/suspended/, 'tenant_suspended'],
    [/^No instance is hosted at this address/, 'unknown_host'],
  ];

  /** The status each path answers on `domain`, and which refusal each error is. */
  async function answers(domain: string): Promise<{ status: number; code?: string }[]> {
    const seen: { status: number; code?: string }[] = [];
    for (const path of paths) {
      const res = await platform.get(path, domain);
      if (res.status === 200) seen.push({ status: 200 });
      else {
        const error = expectMastodonError(res, res.status);
        seen.push({ status: res.status, code: CODES.find(([pattern]) => pattern.test(error))?.[1] ?? error });
      }
    }
    return seen;
  }

  const everywhere = (answer: { status: number; code?: string }) => paths.map(() => answer);

  beforeAll(async () => {
    platform = await startTenantApp(
      {
        env: { TOWNHALL_TENANT_CACHE_MS: '0', TOWNHALL_WORKERS: 'false' },
        active: [
          {
            slug: 'leaving',
            domain: 'social.leaving.example',
            displayName: 'Leaving',
            adminEmail: 'a@leaving.example',
          },
          { slug: 'gone', domain: 'social.gone.example', displayName: 'Gone', adminEmail: 'a@gone.example' },
          {
            slug: 'broken',
            domain: 'social.broken.example',
            displayName: 'Broken',
            adminEmail: 'a@broken.example',
          },
        ],
      },
      (config) => AllInOneModule.forRoot(config),
    );
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('answers 503 while the tenant is being deleted, and serves it again once the deletion is cancelled', async () => {
    const { id } = platform.tenants.leaving;
    expect(await answers('social.leaving.example')).toEqual(everywhere({ status: 200 }));
    await platform.provisioner.lifecycle.delete(id, new DeleteTenantCommand({ graceSeconds: 3600 }));
    expect(await answers('social.leaving.example')).toEqual(
      everywhere({ status: 503, code: 'tenant_unavailable' }),
    );
    await platform.provisioner.lifecycle.resume(id);
    expect(await answers('social.leaving.example')).toEqual(everywhere({ status: 200 }));
  });

  it('answers 404, as for any unknown domain, once the deleted tenant’s data is dropped', async () => {
    const { id } = platform.tenants.gone;
    await platform.provisioner.lifecycle.delete(id, new DeleteTenantCommand({ purgeImmediately: true }));
    expect(await platform.app.get(TenantSchemaDropper).dropIfDue(id)).toBe('dropped');
    expect(await answers('social.gone.example')).toEqual(everywhere({ status: 404, code: 'unknown_host' }));
  });

  it('answers 503 for a tenant whose provisioning failed', async () => {
    const { id } = platform.tenants.broken;
    // What the worker leaves after a provisioning job's last attempt failed.
    await platform.app
      .get(DataSource)
      .query(`UPDATE platform.tenants SET status = 'failed', failure_reason = 'boom' WHERE id = $1`, [id]);
    expect(await answers('social.broken.example')).toEqual(
      everywhere({ status: 503, code: 'tenant_unavailable' }),
    );
  });
});
