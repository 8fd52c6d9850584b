import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { tap } from 'rxjs';
import type { OperatorRequest } from '@townhall/auth';

/**
 * Logs who changed what through the operator API, and whether it worked. A stop-gap record of
 * privileged actions until they go to the tamper-evident audit log.
 */
@Injectable()
export class OperatorActionInterceptor implements NestInterceptor {
  private readonly logger = new Logger('OperatorAction');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<OperatorRequest>();
    if (req.method === 'GET' || req.method === 'HEAD') return next.handle();
    const action = { operator: req.user?.name, method: req.method, path: req.originalUrl.split('?')[0] };
    return next.handle().pipe(
      tap({
        next: () => this.logger.log(action, 'Operator action done'),
        error: (err: unknown) =>
          this.logger.warn(
            { ...action, error: (err as { code?: string }).code ?? 'error' },
            'Operator action refused',
          ),
      }),
    );
  }
}
