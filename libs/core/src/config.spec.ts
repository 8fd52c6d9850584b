import { ConfigValidationError, DEFAULT_DATABASE_URL, loadConfig } from './config';
import { resolve } from 'node:path';

describe('loadConfig', () => {
  it('gives a working development configuration with no environment at all', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      http: { host: '127.0.0.1', port: 3000 },
      database: { url: DEFAULT_DATABASE_URL, explicit: false },
      redis: { url: 'redis://127.0.0.1:6379' },
      publicUrl: { scheme: 'https', port: undefined },
      demo: { domain: 'demo.localhost', enabled: true },
    });
  });

  it('reports every problem on its own line, not just the first', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x/y',
        REDIS_URL: 'not a url',
        TOWNHALL_PUBLIC_SCHEME: 'ftp',
        TOWNHALL_SECRET_KEY: 'c2hvcnQ=',
        TOWNHALL_OPERATOR_TOKEN: 'short',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems;
    expect(problems).toEqual([
      expect.stringMatching(/^TOWNHALL_PUBLIC_SCHEME must be http or https/),
      expect.stringMatching(/^TOWNHALL_SECRET_KEY must be 32 bytes/),
      expect.stringMatching(/^TOWNHALL_OPERATOR_TOKEN must be at least 24 characters/),
      expect.stringMatching(/^LOG_LEVEL must be one of/),
      expect.stringMatching(/^PORT must be an integer between 0 and 65535 \(got "eighty"\)/),
      expect.stringMatching(/^DATABASE_URL must use postgres: or postgresql:/),
      expect.stringMatching(/^REDIS_URL is not a valid URL/),
    ]);
    expect((error as Error).message.split('\n')).toHaveLength(problems.length + 1);
  });

  it('requires a secret key in production and refuses fault injection there', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        TOWNHALL_FAULT_CRASH_AFTER_STEP: 'schema',
        TOWNHALL_FAULT_CRASH_IN_KEY_ROTATION: 'committed',
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^TOWNHALL_SECRET_KEY is required in production/),
          expect.stringMatching(/^TOWNHALL_FAULT_CRASH_AFTER_STEP is a test setting/),
          expect.stringMatching(/^TOWNHALL_FAULT_CRASH_IN_KEY_ROTATION is a test setting/),
        ],
      }),
    );
  });

  it('refuses a secret key with characters base64 does not have, which Node would silently skip', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ TOWNHALL_SECRET_KEY: ` ${key}\n` }).secretKey).toEqual(Buffer.alloc(32, 7));
    expect(() => loadConfig({ TOWNHALL_SECRET_KEY: `${key.slice(0, 20)}!${key.slice(20)}` })).toThrow(
      /TOWNHALL_SECRET_KEY must be 32 bytes encoded as base64/,
    );
  });

  it('fetches remote documents securely by default and refuses the insecure setting in production', () => {
    expect(loadConfig({}).federation).toEqual({
      insecure: false,
      fetchTimeoutMs: 10_000,
      fetchMaxBytes: 1024 * 1024,
      fetchMaxRedirects: 3,
    });
    expect(loadConfig({ TOWNHALL_INSECURE_FEDERATION: 'true' }).federation.insecure).toBe(true);
    const secretKey = Buffer.alloc(32, 7).toString('base64');
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        TOWNHALL_SECRET_KEY: secretKey,
        TOWNHALL_INSECURE_FEDERATION: 'true',
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [expect.stringMatching(/^TOWNHALL_INSECURE_FEDERATION .* refused in production/)],
      }),
    );
    expect(
      loadConfig({
        NODE_ENV: 'production',
        TOWNHALL_SECRET_KEY: secretKey,
        TOWNHALL_INSECURE_FEDERATION: 'false',
      }).federation.insecure,
    ).toBe(false);
  });

  it('reads public scheme and port for links', () => {
    const config = loadConfig({
      TOWNHALL_PUBLIC_SCHEME: 'http',
      TOWNHALL_PUBLIC_PORT: '8080',
      DATABASE_URL: 'postgres://db/x',
    });
    expect(config.publicUrl).toEqual({ scheme: 'http', port: 8080 });
    expect(config.database).toMatchObject({ url: 'postgres://db/x', explicit: true });
  });

  it('logs the pool in as the townhall_app role by default, as another role, or as the owner (off)', () => {
    expect(loadConfig({}).database.appRole).toBe('townhall_app');
    expect(loadConfig({ TOWNHALL_DATABASE_APP_ROLE: 'social_app' }).database.appRole).toBe('social_app');
    expect(loadConfig({ TOWNHALL_DATABASE_APP_ROLE: 'off' }).database.appRole).toBeNull();
    expect(loadConfig({ TOWNHALL_DATABASE_APP_ROLE: '' }).database.appRole).toBeNull();
    for (const bad of ['Townhall', 'app; DROP TABLE x', 'pg_app', '1app', 'a'.repeat(64)]) {
      expect(() => loadConfig({ TOWNHALL_DATABASE_APP_ROLE: bad })).toThrow(
        expect.objectContaining({ problems: [expect.stringMatching(/^TOWNHALL_DATABASE_APP_ROLE must be/)] }),
      );
    }
  });

  it('takes the application role from DATABASE_APP_URL, which the role setting may only agree with', () => {
    const url = 'postgres://social_app:pw@db.example/townhall';
    expect(loadConfig({ DATABASE_APP_URL: url }).database).toMatchObject({
      appRole: 'social_app',
      appUrl: url,
    });
    expect(
      loadConfig({ DATABASE_APP_URL: url, TOWNHALL_DATABASE_APP_ROLE: 'social_app' }).database.appRole,
    ).toBe('social_app');
    expect(loadConfig({}).database.appUrl).toBeUndefined();
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigValidationError).problems;
      }
    };
    expect(problems({ DATABASE_APP_URL: 'mysql://app@db/x' })).toEqual([
      expect.stringMatching(/^DATABASE_APP_URL must use postgres: or postgresql:/),
    ]);
    expect(problems({ DATABASE_APP_URL: 'not a url' })).toEqual([
      expect.stringMatching(/^DATABASE_APP_URL is not a valid URL/),
    ]);
    expect(problems({ DATABASE_APP_URL: 'postgres://db.example/townhall' })).toEqual([
      expect.stringMatching(/^DATABASE_APP_URL must name its user/),
    ]);
    expect(problems({ DATABASE_APP_URL: 'postgres://pg_app@db.example/townhall' })).toEqual([
      expect.stringMatching(/^DATABASE_APP_URL must name its user/),
    ]);
    expect(problems({ DATABASE_APP_URL: url, TOWNHALL_DATABASE_APP_ROLE: 'townhall_app' })).toEqual([
      'DATABASE_APP_URL logs in as "social_app" but TOWNHALL_DATABASE_APP_ROLE names "townhall_app": they must agree',
    ]);
    expect(problems({ DATABASE_APP_URL: url, TOWNHALL_DATABASE_APP_ROLE: 'off' })).toEqual([
      expect.stringMatching(/^DATABASE_APP_URL is set but TOWNHALL_DATABASE_APP_ROLE is off/),
    ]);
  });

  it('reads the audit witnesses as verifier key and URL, refusing what is not one', () => {
    const a = 'witness.dpa.example/w1+480a548b+BAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH';
    const b = 'w2.example+e9702a13+BAkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJ';
    expect(
      loadConfig({
        TOWNHALL_AUDIT_WITNESSES: `${a} https://witness.dpa.example/, ${b} http://10.0.0.5:7380\n`,
      }).audit.witnesses,
    ).toEqual([
      { name: 'witness.dpa.example/w1', vkey: a, url: 'https://witness.dpa.example' },
      { name: 'w2.example', vkey: b, url: 'http://10.0.0.5:7380' },
    ]);
    const problems = (value: string): string[] => {
      try {
        loadConfig({ TOWNHALL_AUDIT_WITNESSES: value });
        return [];
      } catch (err) {
        return (err as ConfigValidationError).problems;
      }
    };
    // The base64 of a key may contain "+" itself.
    const plus = 'w3.example+bb6fe249+BPv7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7';
    expect(loadConfig({ TOWNHALL_AUDIT_WITNESSES: `${plus} http://w3.example` }).audit.witnesses).toEqual([
      { name: 'w3.example', vkey: plus, url: 'http://w3.example' },
    ]);
    expect(problems(a)).toEqual([
      expect.stringMatching(/TOWNHALL_AUDIT_WITNESSES: expected "<verifier key> <URL>"/),
    ]);
    expect(problems(`${a} ftp://witness.example`)).toEqual([expect.stringMatching(/must be http or https/)]);
    expect(problems(`${a} https://w.example?x=1`)).toEqual([expect.stringMatching(/no query/)]);
    expect(problems(`https://w.example ${a}`)).toEqual([expect.stringMatching(/not name\+keyID\+key/)]);
    expect(
      problems('w1.example+480a548b+BAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH https://w.example'),
    ).toEqual([expect.stringMatching(/key ID does not match/)]);
    expect(
      problems('w1.example+480a548b+AQcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH https://w.example'),
    ).toEqual([expect.stringMatching(/not an Ed25519 cosignature key/)]);
    expect(problems(`${a} https://w.example, ${a} https://other.example`)).toEqual([
      expect.stringMatching(/witness\.dpa\.example\/w1 is listed twice/),
    ]);
  });

  it('reads the audit log origin, checkpoint interval and backup retention, refusing an origin a checkpoint cannot carry', () => {
    expect(loadConfig({}).audit).toMatchObject({
      origin: 'townhall/audit',
      checkpointEntries: 1000,
      checkpointSeconds: 60,
      backupRetentionDays: 30,
      signerModule: undefined,
    });
    expect(
      loadConfig({
        TOWNHALL_AUDIT_ORIGIN: 'social.gov.example/audit',
        TOWNHALL_AUDIT_CHECKPOINT_ENTRIES: '500',
        TOWNHALL_AUDIT_CHECKPOINT_SECONDS: '5',
        TOWNHALL_BACKUP_RETENTION_DAYS: '90',
      }).audit,
    ).toMatchObject({
      origin: 'social.gov.example/audit',
      checkpointEntries: 500,
      checkpointSeconds: 5,
      backupRetentionDays: 90,
      signerModule: undefined,
    });
    expect(loadConfig({ TOWNHALL_AUDIT_SIGNER_MODULE: 'etc/kms-signer.js' }).audit.signerModule).toBe(
      resolve('etc/kms-signer.js'),
    );
    expect(() =>
      loadConfig({
        TOWNHALL_AUDIT_ORIGIN: 'a+b',
        TOWNHALL_AUDIT_CHECKPOINT_ENTRIES: '0',
        TOWNHALL_AUDIT_CHECKPOINT_SECONDS: 'soon',
        TOWNHALL_BACKUP_RETENTION_DAYS: '-1',
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^TOWNHALL_AUDIT_ORIGIN must be 1–255 characters/),
          expect.stringMatching(/^TOWNHALL_AUDIT_CHECKPOINT_ENTRIES must be an integer between 1 and/),
          expect.stringMatching(/^TOWNHALL_AUDIT_CHECKPOINT_SECONDS must be an integer between 1 and/),
          expect.stringMatching(/^TOWNHALL_BACKUP_RETENTION_DAYS must be an integer between 0 and 3650/),
        ],
      }),
    );
  });

  it('reads the platform’s own host names, canonical, and refuses what is not one', () => {
    expect(loadConfig({}).platformHosts).toEqual([]);
    expect(
      loadConfig({
        TOWNHALL_PLATFORM_HOSTS:
          ' OPS.Social.Gov.Example. , regulators.social.gov.example,ops.social.gov.example',
      }).platformHosts,
    ).toEqual(['ops.social.gov.example', 'regulators.social.gov.example']);
    expect(() =>
      loadConfig({ TOWNHALL_PLATFORM_HOSTS: 'ops.example:8443,,https://x.example/,10.0.0.1' }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^TOWNHALL_PLATFORM_HOSTS must be .* \(got "ops.example:8443"\)/),
          expect.stringMatching(/\(got ""\)/),
          expect.stringMatching(/\(got "https:\/\/x.example\/"\)/),
          expect.stringMatching(/\(got "10.0.0.1"\)/),
        ],
      }),
    );
  });

  it('refuses a demo domain that is not a host name or is one of the platform’s own', () => {
    expect(loadConfig({ TOWNHALL_DEMO_DOMAIN: 'Demo.Localhost.' }).demo.domain).toBe('demo.localhost');
    expect(() => loadConfig({ TOWNHALL_DEMO_DOMAIN: 'demo.localhost/x' })).toThrow(
      expect.objectContaining({
        problems: [expect.stringMatching(/^TOWNHALL_DEMO_DOMAIN must be a host name/)],
      }),
    );
    expect(() =>
      loadConfig({ TOWNHALL_PLATFORM_HOSTS: 'social.example', TOWNHALL_DEMO_DOMAIN: 'demo.social.example' }),
    ).toThrow(
      expect.objectContaining({ problems: [expect.stringMatching(/^TOWNHALL_DEMO_DOMAIN must not be/)] }),
    );
  });

  it('reads integer settings strictly', () => {
    for (const port of ['08080', '8e3', '0x1f90', ' 80 80', '+80']) {
      expect(() => loadConfig({ PORT: port })).toThrow(ConfigValidationError);
    }
    expect(loadConfig({ PORT: '8080' }).http.port).toBe(8080);
  });
});
