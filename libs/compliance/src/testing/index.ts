/**
 * Test material for unit specs of any library (imported as `@townhall/compliance/testing`, never by
 * product code, and not part of the build): in-memory fakes of the audit log's storage, the contract
 * suites they share with the real adapters, and a deterministic audit log.
 */
export * from './fake-audit';
export * from './audit-contracts';
export * from './audit-log-fixture';
export * from './command-io';
