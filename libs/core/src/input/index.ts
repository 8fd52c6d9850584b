export * from './strict-integer';
export * from './human-text';
export * from './email-address';
export * from './decorators';
