export * from './platform.module';
export * from './prepare';
export * from './run-http-app';
export * from './embedded-postgres';
export * from './observability';
export * from './platform.errors';
export * from './secret-key';
