export * from './cors';
export * from './http-app';
export * from './request-bodies';
export * from './request-gate';
export * from './security-headers';
export * from './platform-site';
export * from './validation';
