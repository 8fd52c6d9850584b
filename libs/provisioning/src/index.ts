export * from './provisioning.errors';
export * from './commands';
export * from './provisioning.queue';
export * from './provisioning-saga';
export * from './tenant-lifecycle';
export * from './tenant-schema-dropper';
export * from './provisioning.worker';
export * from './provisioning.module';
