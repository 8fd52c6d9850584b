import type { AuditActor } from '../audit-entry';
import type { AuditContextInit } from './audit-context';

/** What the audit context needs of an HTTP request (Fastify's request has it). */
export interface AuditedRequest {
  id: string;
  ip: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The audit context of an authenticated HTTP request: the actor its guard established, the request id
 * the response carries (`X-Request-Id`), and the client's address and user agent — personal data the recorder keeps out of the entries.
 */
export function httpAuditContext(req: AuditedRequest, actor: AuditActor): AuditContextInit {
  const userAgent = req.headers['user-agent'];
  const agent = typeof userAgent === 'string' ? userAgent : undefined;
  return {
    actor,
    requestId: req.id.length > 0 ? req.id : undefined,
    ip: req.ip,
    userAgent: agent && agent.length > 0 ? agent : undefined,
  };
}
