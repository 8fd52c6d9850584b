import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { regulatorAuditActor, type RegulatorRequest } from '@townhall/auth';
import { AuditContext, httpAuditContext } from '@townhall/compliance';

/**
 * Runs every regulator request inside an audit context naming the regulator and its token, the request
 * id and the client's connection, so what the request records (exports, refusals) says who asked.
 */
@Injectable()
export class RegulatorAuditContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<RegulatorRequest>();
    // The guard ran first: a request without a regulator never gets here.
    const audit = httpAuditContext(req, regulatorAuditActor(req.user!));
    // Nest binds the handler to the async context in which handle() is called: this one.
    return AuditContext.run(audit, () => next.handle());
  }
}
