import type { Request, Response } from 'express';
import type { AuditActor } from '../audit-entry';
import type { AuditContextInit } from './audit-context';

/**
 * The audit context of an authenticated HTTP request: the actor its guard established, the request id
 * the response carries (`X-Request-Id`, set by the logging middleware), and the client's address and
 * user agent — personal data the recorder keeps out of the entries.
 */
export function httpAuditContext(req: Request, res: Response, actor: AuditActor): AuditContextInit {
  const requestId = res.getHeader('X-Request-Id') ?? (req as Request & { id?: unknown }).id;
  const userAgent = req.headers['user-agent'];
  return {
    actor,
    requestId: typeof requestId === 'string' && requestId.length > 0 ? requestId : undefined,
    ip: req.ip,
    userAgent: userAgent && userAgent.length > 0 ? userAgent : undefined,
  };
}
