import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { TenantContext, TenantRef } from './tenant-context';
import { TenancyError } from './tenancy.errors';
import { TenantRegistry, tenantRef } from './tenant-registry';

export type TenantRequest = Request & { tenant?: TenantRef };

/**
 * Resolves the request's `Host` to a tenant and runs the rest of the request inside that tenant's
 * context. Unknown hosts get 404; tenants that cannot serve (suspended, provisioning, …) get 503.
 */
@Injectable()
export class TenantResolverMiddleware implements NestMiddleware {
  constructor(private readonly registry: TenantRegistry) {}

  async use(req: TenantRequest, _res: Response, next: NextFunction): Promise<void> {
    try {
      const found = await this.registry.findByHost(req.headers.host);
      if (!found) throw new TenancyError('unknown_host', 'No instance is hosted at this address.');
      const { tenant, domain } = found;
      if (tenant.status === 'suspended') {
        throw new TenancyError(
          'tenant_suspended',
          'This instance has been suspended by the platform operator.',
        );
      }
      if (tenant.status !== 'active') {
        throw new TenancyError('tenant_unavailable', `This instance is ${tenant.status}.`);
      }
      const ref = tenantRef(tenant, domain);
      req.tenant = ref;
      TenantContext.run(ref, () => next());
    } catch (err) {
      next(err);
    }
  }
}
