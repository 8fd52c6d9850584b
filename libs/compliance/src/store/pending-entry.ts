import { auditEntryProblem } from '../audit-entry';
import type { UnsequencedAuditEntry } from '../audit-ports';
import { canonicalJson } from '../canonical-json';
import { ComplianceError } from '../compliance.errors';

/**
 * The canonical JSON a pending row holds, after checking the entry as the log will (with a placeholder
 * seq): a malformed entry is refused here, in the caller's transaction, with nothing written. (The
 * fake store of unit specs checks entries with it too.)
 */
export function pendingEntry(entry: UnsequencedAuditEntry): string {
  if (typeof entry === 'object' && entry !== null && ('seq' in entry || 'tenantSeq' in entry)) {
    throw new ComplianceError('invalid_audit_entry', 'seq and tenantSeq are assigned by the log');
  }
  const problem = auditEntryProblem({ ...entry, seq: 0 });
  if (problem !== null) throw new ComplianceError('invalid_audit_entry', problem);
  try {
    return canonicalJson(entry);
  } catch (err) {
    if (err instanceof ComplianceError) throw new ComplianceError('invalid_audit_entry', err.detail);
    throw err;
  }
}
