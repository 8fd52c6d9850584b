export * from './local-accounts';
export * from './local-usage';
export * from './social.module';
