import { AsyncResource } from 'node:async_hooks';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { defer, lastValueFrom } from 'rxjs';
import { OperatorEntity } from '@townhall/auth';
import { AuditContext } from '@townhall/compliance';
import type { TownhallConfig } from '@townhall/core';
import { OperatorActionInterceptor } from './operator-action.interceptor';

describe('OperatorActionInterceptor', () => {
  const operator = Object.assign(new OperatorEntity(), { id: '4242', tokenId: '17', name: 'alice' });

  function httpContext(method: string): ExecutionContext {
    // As Fastify hands it over: the request id it echoes in X-Request-Id, the matched route template.
    const req = {
      id: 'req-12345678',
      method,
      user: operator,
      ip: '203.0.113.9',
      headers: { 'user-agent': 'curl/8.5' },
      routeOptions: { url: '/api/platform/v1/tenants/:id/suspend' },
      url: '/api/platform/v1/tenants/1001/suspend',
    };
    const res = {};
    return {
      switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
    } as unknown as ExecutionContext;
  }

  /** Like Nest's handler: bound to the async context it is created in, run when subscribed. */
  function handler(work: () => Promise<unknown>): CallHandler {
    return { handle: () => defer(AsyncResource.bind(work)) };
  }

  /** The interceptor under test, with its error log captured instead of printed. */
  function interceptor(env: TownhallConfig['env']): OperatorActionInterceptor {
    const it = new OperatorActionInterceptor({ env } as TownhallConfig);
    jest.spyOn(it['logger'], 'error').mockImplementation(() => undefined);
    return it;
  }

  const recordOne = () => {
    AuditContext.current()!.noteRecorded();
    return Promise.resolve('done');
  };

  it('runs the handler inside the audit context of the operator, token and request', async () => {
    let seen: unknown;
    const result = interceptor('test').intercept(
      httpContext('POST'),
      handler(() => {
        seen = AuditContext.current()?.value;
        return recordOne();
      }),
    );
    await expect(lastValueFrom(result)).resolves.toBe('done');
    expect(seen).toEqual({
      actor: { type: 'operator', id: '4242', via: 'token:17' },
      requestId: 'req-12345678',
      ip: '203.0.113.9',
      userAgent: 'curl/8.5',
    });
  });

  it('fails a change that recorded nothing outside production, and logs it in production', async () => {
    const forgetful = handler(() => Promise.resolve('changed'));
    await expect(
      lastValueFrom(interceptor('test').intercept(httpContext('POST'), forgetful)),
    ).rejects.toThrow(
      'POST /api/platform/v1/tenants/:id/suspend changed something without recording an audit entry',
    );
    await expect(
      lastValueFrom(interceptor('development').intercept(httpContext('DELETE'), forgetful)),
    ).rejects.toThrow();
    const production = interceptor('production');
    const logged = jest.mocked(production['logger'].error);
    await expect(lastValueFrom(production.intercept(httpContext('PATCH'), forgetful))).resolves.toBe(
      'changed',
    );
    expect(logged).toHaveBeenCalledWith(
      { operator: '4242', method: 'PATCH', route: '/api/platform/v1/tenants/:id/suspend' },
      'Operator change succeeded without an audit entry',
    );
  });

  it('asks nothing of reads, and lets a refused change’s own error through', async () => {
    const read = handler(() => Promise.resolve('list'));
    await expect(lastValueFrom(interceptor('test').intercept(httpContext('GET'), read))).resolves.toBe(
      'list',
    );
    const refused = handler(() => Promise.reject(new Error('conflict')));
    await expect(lastValueFrom(interceptor('test').intercept(httpContext('POST'), refused))).rejects.toThrow(
      'conflict',
    );
    const recorded = handler(recordOne);
    await expect(lastValueFrom(interceptor('test').intercept(httpContext('POST'), recorded))).resolves.toBe(
      'done',
    );
  });
});
