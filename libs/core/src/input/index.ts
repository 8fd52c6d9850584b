export * from './strict-integer';
export * from './decorators';
