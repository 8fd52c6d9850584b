export * from './observability.module';
export * from './observability.errors';
export * from './metrics.registry';
export * from './http-metrics';
