export * from './local-accounts';
export * from './local-usage';
