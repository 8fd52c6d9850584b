import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { TenantAtHost } from '@townhall/tenancy';

/** The tenant the request's Host resolved to (set by the tenant request hooks on every tenant path). */
export const CurrentTenant = createParamDecorator((_: unknown, ctx: ExecutionContext): TenantAtHost => {
  const tenant = ctx.switchToHttp().getRequest<FastifyRequest>().tenant;
  if (!tenant) throw new Error('CurrentTenant on a route that is not a tenant path');
  return tenant;
});
