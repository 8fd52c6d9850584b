export * from './keys';
export * from './nodeinfo';
export * from './host-meta';
export * from './fetch';
export * from './signatures';
export * from './documents';
