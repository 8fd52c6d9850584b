export * from './platform.module';
export * from './prepare';
