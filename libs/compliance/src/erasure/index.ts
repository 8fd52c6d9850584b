export * from './audit-period-keys';
export * from './rotate-audit-period-keys';
export * from './audit-period-keys.worker';
export * from './audit-period-keys.module';
export * from './audit-period-keys.service';
