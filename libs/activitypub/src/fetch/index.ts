export * from './address-policy';
export * from './fetch-errors';
export * from './safe-fetcher';
export * from './remote-object';
