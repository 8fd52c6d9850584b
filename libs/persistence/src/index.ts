export * from './ids';
export * from './database';
export * from './migrations/platform';
export * from './migrations/tenant';
export * from './persistence.module';
