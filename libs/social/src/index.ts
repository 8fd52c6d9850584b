export * from './local-accounts';
