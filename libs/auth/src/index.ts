export * from './auth.errors';
export * from './operator.entity';
export * from './operator-token';
export * from './operator-tokens';
export * from './operator-bearer.strategy';
export * from './operator-auth.guard';
export * from './auth.module';
