import type { AuditEntry } from './audit-entry';
import { canonicalJson } from './canonical-json';

/**
 * A spreadsheet view of entries. It is only a view: it drops the hashes, checkpoints and proofs, so
 * nothing about it can be verified — the NDJSON bundle is the evidence, the CSV is for reading.
 */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'time',
  'tenant',
  'tenant_seq',
  'actor_type',
  'actor_id',
  'actor_via',
  'actor_on_behalf_of',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'request_id',
  'details',
] as const;

// A cell starting with one of these is a formula to a spreadsheet program (CSV injection), so it is
// prefixed with an apostrophe, the conventional "this is text" marker.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function auditCsvHeader(): string {
  return AUDIT_CSV_COLUMNS.join(',') + '\r\n';
}

/** One CSV record (RFC 4180, CRLF-terminated); details as canonical JSON in one cell. */
export function auditCsvRow(entry: AuditEntry): string {
  return (
    [
      entry.seq,
      entry.time,
      entry.tenant,
      entry.tenantSeq,
      entry.actor.type,
      entry.actor.id,
      entry.actor.via,
      entry.actor.onBehalfOf,
      entry.action,
      entry.target.type,
      entry.target.id,
      entry.outcome,
      entry.requestId,
      canonicalJson(entry.details),
    ]
      .map(csvCell)
      .join(',') + '\r\n'
  );
}
