import { AsyncLocalStorage } from 'node:async_hooks';
import { TenancyError } from './tenancy.errors';

/** What code running "inside a tenant" knows about it. */
export interface TenantRef {
  id: string;
  schema: string;
  domain: string;
  status: string;
}

const storage = new AsyncLocalStorage<TenantRef>();

/**
 * The tenant a request or job acts for, carried implicitly through async calls. Set once at the edge
 * (Host resolution for HTTP, the job payload for workers); read wherever tenant data is touched.
 */
export const TenantContext = {
  run<T>(tenant: TenantRef, fn: () => T): T {
    return storage.run(Object.freeze({ ...tenant }), fn);
  },
  current(): TenantRef {
    const tenant = storage.getStore();
    if (!tenant)
      throw new TenancyError('no_tenant_context', 'Tenant data was touched outside a tenant context');
    return tenant;
  },
  currentOrUndefined(): TenantRef | undefined {
    return storage.getStore();
  },
};
