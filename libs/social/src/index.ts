export * from './accounts/local-accounts';
export * from './accounts/passwords';
export * from './local-usage';
export * from './social.module';
export * from './accounts/local-account-commands';
export * from './accounts/account-records';
export * from './text/plain-text';
export * from './accounts/account-queries';
