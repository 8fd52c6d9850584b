import { CallHandler, ExecutionContext, Inject, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { tap } from 'rxjs';
import { operatorAuditActor, OperatorRequest } from '@townhall/auth';
import { AuditScope, httpAuditContext } from '@townhall/compliance';
import { TOWNHALL_CONFIG, TownhallConfig } from '@townhall/core';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Runs every operator request inside an audit context — the operator and token from the guard, the
 * request id, the client's address and user agent — so the use cases it calls record who acted.
 *
 * A change that succeeds without recording anything is a programming error: the interceptor logs it
 * always, and outside production fails the request with a 500, so a test of the endpoint catches it.
 * (In production the change is kept; failing the request would only hide that it happened.)
 */
@Injectable()
export class OperatorActionInterceptor implements NestInterceptor {
  private readonly logger = new Logger('OperatorAction');

  constructor(@Inject(TOWNHALL_CONFIG) private readonly config: TownhallConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<OperatorRequest>();
    if (!req.user) throw new Error('OperatorActionInterceptor needs OperatorAuthGuard before it');
    const operator = req.user;
    const scope = new AuditScope(httpAuditContext(req, operatorAuditActor(operator)));
    const handled = scope.run(() => next.handle());
    if (READ_METHODS.has(req.method)) return handled;
    return handled.pipe(
      tap(() => {
        if (scope.recorded > 0) return;
        const where = { operator: operator.id, method: req.method, route: routeOf(req) };
        this.logger.error(where, 'Operator change succeeded without an audit entry');
        if (this.config.env !== 'production') {
          throw new Error(
            `${where.method} ${where.route} changed something without recording an audit entry`,
          );
        }
      }),
    );
  }
}

/** The route's pattern (`/api/platform/v1/tenants/:id`), not the URL: ids and query strings stay out of logs. */
function routeOf(req: OperatorRequest): string {
  return req.routeOptions.url ?? 'unmatched';
}
