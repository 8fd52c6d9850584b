export * from './ids';
export * from './application-role';
export * from './database';
export * from './sql-state';
export * from './migrations/platform';
export * from './migrations/tenant';
export * from './persistence.module';
export * from './sealed-secrets';
