/**
 * @townhall/compliance — the tamper-evident audit log's cryptographic format and its offline verifier:
 * RFC 8785 canonical JSON, the RFC 6962/9162 Merkle tree and proofs, Ed25519 keys, checkpoints and key
 * rotation, the NDJSON export bundle (writer and streaming verifier) and `runVerifyCommand` for the CLI.
 * docs/audit-format.md is the specification. Recording, sequencing and the regulator API build on it.
 */
export * from './compliance.errors';
export * from './canonical-json';
export * from './merkle';
export * from './audit-entry';
export * from './audit-keys';
export * from './checkpoint';
export * from './audit-bundle';
export * from './audit-bundle-writer';
export {
  AUDIT_FAILURE_REASONS,
  type AuditFailureReason,
  type AuditVerificationFailure,
  type AuditVerificationResult,
  type AuditVerificationSummary,
} from './audit-verification';
export * from './audit-bundle-verifier';
export * from './audit-consistency';
export * from './verify-command';
export * from './audit-csv';
export * from './in-memory-audit-log';
export * from './bench-verify';
export * from './audit-ports';
export * from './recording';
export * from './store';
export * from './witness';
export * from './erasure';
