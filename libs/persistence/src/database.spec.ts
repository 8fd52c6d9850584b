import { createHmac } from 'node:crypto';
import { loadConfig } from '@townhall/core';
import { applicationDatabaseUrl, dataSourceOptions, derivedApplicationPassword } from './database';

describe('the application’s database login', () => {
  const config = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env });

  it('logs in as the application role without a password when DATABASE_URL has none (trust)', () => {
    const c = config({ DATABASE_URL: 'postgres://owner@db.example:6543/townhall?sslmode=require' });
    expect(applicationDatabaseUrl(c)).toBe(
      'postgres://townhall_app@db.example:6543/townhall?sslmode=require',
    );
    expect(derivedApplicationPassword(c)).toBeNull();
  });

  it('derives the role’s password from the owner’s, the same in every process and never the owner’s', () => {
    const c = config({
      DATABASE_URL: 'postgres://owner:s3cr%40t@db.example/townhall',
      TOWNHALL_DATABASE_APP_ROLE: 'social_app',
    });
    const password = createHmac('sha256', 's3cr@t')
      .update('townhall-database-app-role\ntownhall\nsocial_app')
      .digest('base64url');
    expect(derivedApplicationPassword(c)).toBe(password);
    const url = new URL(applicationDatabaseUrl(c));
    expect([url.username, decodeURIComponent(url.password), url.host, url.pathname]).toEqual([
      'social_app',
      password,
      'db.example',
      '/townhall',
    ]);
    const other = config({ DATABASE_URL: 'postgres://owner:other@db.example/townhall' });
    expect(derivedApplicationPassword(other)).not.toBe(password);
    // Another database on the same cluster, same owner password: another password.
    const neighbour = config({
      DATABASE_URL: 'postgres://owner:s3cr%40t@db.example/townhall_b',
      TOWNHALL_DATABASE_APP_ROLE: 'social_app',
    });
    expect(derivedApplicationPassword(neighbour)).not.toBe(password);
  });

  it('uses DATABASE_APP_URL as given, and sets no password for it', () => {
    const c = config({
      DATABASE_URL: 'postgres://owner:pw@db.example/townhall',
      DATABASE_APP_URL: 'postgres://app_login:theirs@pooler.example:6432/townhall',
    });
    expect(c.database.appRole).toBe('app_login');
    expect(applicationDatabaseUrl(c)).toBe('postgres://app_login:theirs@pooler.example:6432/townhall');
    expect(derivedApplicationPassword(c)).toBeNull();
  });

  it('keeps one login, the owner’s, with the role off', () => {
    const c = config({
      DATABASE_URL: 'postgres://owner:pw@db.example/townhall',
      TOWNHALL_DATABASE_APP_ROLE: 'off',
    });
    expect(applicationDatabaseUrl(c)).toBe('postgres://owner:pw@db.example/townhall');
    expect(derivedApplicationPassword(c)).toBeNull();
  });
});

describe('the application’s pool', () => {
  const extra = (env: Record<string, string>) =>
    dataSourceOptions(loadConfig({ NODE_ENV: 'test', ...env })).extra as Record<string, unknown>;

  it('holds DATABASE_POOL_SIZE connections, each replaced after DATABASE_POOL_MAX_USES transactions or an hour', () => {
    expect(extra({ DATABASE_POOL_SIZE: '7', DATABASE_POOL_MAX_USES: '250' })).toMatchObject({
      max: 7,
      maxUses: 250,
      maxLifetimeSeconds: 3600,
    });
  });

  it('tells preparedQuery whether to prepare (DATABASE_PREPARED_STATEMENTS)', () => {
    expect(extra({}).preparedStatements).toBe(true);
    expect(extra({ DATABASE_PREPARED_STATEMENTS: 'false' }).preparedStatements).toBe(false);
  });

  it('keeps a connection for any number of transactions with DATABASE_POOL_MAX_USES=0, but not past an hour', () => {
    const options = extra({ DATABASE_POOL_MAX_USES: '0' });
    expect(options).not.toHaveProperty('maxUses');
    expect(options.maxLifetimeSeconds).toBe(3600);
  });
});
