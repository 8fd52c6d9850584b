export * from './observability.module';
export * from './observability.errors';
export * from './metrics.registry';
export * from './http-metrics';
export * from './operations-server';
export * from './health.controller';
