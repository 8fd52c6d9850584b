export * from './digest';
export * from './http-signatures';
export * from './remote-keys';
export * from './signature-errors';
