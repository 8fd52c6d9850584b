export * from './audit-export';
export * from './audit-owner-connection';
export * from './audit-store.module';
export * from './database-audit-store';
export * from './audit-sequencer';
export type { AuditKeyRotation } from './audit-signing-keys';
export * from './rotate-audit-key';
export * from './audit-origin';
export * from './witnesses';
