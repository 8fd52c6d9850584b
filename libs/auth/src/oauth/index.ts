export * from './scopes';
export * from './oauth.errors';
export * from './oauth-records';
export * from './access-tokens';
export * from './oauth.service';
export * from './client-auth.guard';
export * from './personal-tokens';
export * from './oauth.module';
