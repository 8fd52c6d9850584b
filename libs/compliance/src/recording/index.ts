export * from './audit-context';
export * from './http-audit-context';
export * from './audit-subject-cipher';
export * from './audit-subject-store';
export * from './database-audit-recorder';
export * from './audited-transactions';
export * from './audit-subjects';
export * from './audit-recording.module';
