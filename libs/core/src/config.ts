import { resolve } from 'node:path';

/**
 * Configuration, read once from the environment at start and validated into a typed object.
 * Every problem is reported on its own line; the caller prints them and exits.
 */
export interface TownhallConfig {
  env: 'development' | 'production' | 'test';
  http: { host: string; port: number };
  database: { url: string; explicit: boolean; poolSize: number };
  redis: { url: string; keyPrefix: string };
  publicUrl: { scheme: 'http' | 'https'; port: number | undefined };
  demo: { domain: string; enabled: boolean };
  operatorToken: string | undefined;
  /** 32-byte key that encrypts secrets at rest (actor private keys). */
  secretKey: Buffer | undefined;
  dataDir: string;
  log: { level: string; pretty: boolean };
  rateLimit: { limit: number; ttlMs: number };
  provisioning: { concurrency: number; workers: boolean };
  migrations: { concurrency: number; lockTimeoutMs: number };
  queue: { lockDurationMs: number; stalledIntervalMs: number };
  /** Fault injection for crash tests only; refused in production. */
  faults: { crashAfterProvisioningStep: string | undefined };
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

export const DEFAULT_DATABASE_URL = 'postgres://127.0.0.1:5432/townhall';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): TownhallConfig {
  const problems: string[] = [];
  const str = (name: string, fallback?: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? fallback : v.trim();
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  };
  const url = (name: string, fallback: string, protocols: string[]): string => {
    const raw = str(name, fallback)!;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) {
        problems.push(`${name} must use ${protocols.join(' or ')} (got "${u.protocol}")`);
      }
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw;
  };

  const nodeEnv = str('NODE_ENV', 'development')!;
  if (!['development', 'production', 'test'].includes(nodeEnv)) {
    problems.push(`NODE_ENV must be development, production or test (got "${nodeEnv}")`);
  }
  const environment = (
    ['development', 'production', 'test'].includes(nodeEnv) ? nodeEnv : 'development'
  ) as TownhallConfig['env'];

  const scheme = str('TOWNHALL_PUBLIC_SCHEME', 'https')!;
  if (scheme !== 'http' && scheme !== 'https') {
    problems.push(`TOWNHALL_PUBLIC_SCHEME must be http or https (got "${scheme}")`);
  }
  const publicPortRaw = str('TOWNHALL_PUBLIC_PORT');
  const publicPort = publicPortRaw === undefined ? undefined : int('TOWNHALL_PUBLIC_PORT', 443, 1, 65535);

  let secretKey: Buffer | undefined;
  const secretRaw = str('TOWNHALL_SECRET_KEY');
  if (secretRaw !== undefined) {
    secretKey = Buffer.from(secretRaw, 'base64');
    if (secretKey.length !== 32) {
      problems.push('TOWNHALL_SECRET_KEY must be 32 bytes encoded as base64 (try: openssl rand -base64 32)');
    }
  } else if (environment === 'production') {
    problems.push('TOWNHALL_SECRET_KEY is required in production (try: openssl rand -base64 32)');
  }

  const operatorToken = str('TOWNHALL_OPERATOR_TOKEN');
  if (operatorToken !== undefined && operatorToken.length < 24) {
    problems.push('TOWNHALL_OPERATOR_TOKEN must be at least 24 characters long');
  }

  const demoDomain = (str('TOWNHALL_DEMO_DOMAIN', 'demo.localhost') ?? '').toLowerCase();
  if (
    !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(
      demoDomain,
    )
  ) {
    problems.push(`TOWNHALL_DEMO_DOMAIN must be a host name (got "${demoDomain}")`);
  }

  const logLevel = str('LOG_LEVEL', environment === 'test' ? 'warn' : 'info')!;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "${logLevel}")`,
    );
  }

  const crashAfter = str('TOWNHALL_FAULT_CRASH_AFTER_STEP');
  if (crashAfter !== undefined && environment === 'production') {
    problems.push('TOWNHALL_FAULT_CRASH_AFTER_STEP is a test setting and is refused in production');
  }

  const config: TownhallConfig = {
    env: environment,
    http: { host: str('HOST', '127.0.0.1')!, port: int('PORT', 3000, 0, 65535) },
    database: {
      url: url('DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:']),
      explicit: str('DATABASE_URL') !== undefined,
      poolSize: int('DATABASE_POOL_SIZE', 10, 1, 500),
    },
    redis: {
      url: url('REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:']),
      keyPrefix: str('TOWNHALL_REDIS_PREFIX', 'townhall')!,
    },
    publicUrl: { scheme: scheme === 'http' ? 'http' : 'https', port: publicPort },
    demo: { domain: demoDomain, enabled: bool('TOWNHALL_DEMO', true) },
    operatorToken,
    secretKey,
    dataDir: resolve(str('TOWNHALL_DATA_DIR', 'var')!),
    log: { level: logLevel, pretty: bool('LOG_PRETTY', environment === 'development') },
    rateLimit: {
      limit: int('TOWNHALL_RATE_LIMIT', 300, 1, 1_000_000),
      ttlMs: int('TOWNHALL_RATE_LIMIT_WINDOW_MS', 60_000, 1000, 3_600_000),
    },
    provisioning: {
      concurrency: int('TOWNHALL_PROVISIONING_CONCURRENCY', 4, 1, 64),
      workers: bool('TOWNHALL_WORKERS', true),
    },
    migrations: {
      concurrency: int('TOWNHALL_MIGRATION_CONCURRENCY', 4, 1, 64),
      lockTimeoutMs: int('TOWNHALL_MIGRATION_LOCK_TIMEOUT_MS', 5000, 1, 600_000),
    },
    queue: {
      lockDurationMs: int('TOWNHALL_QUEUE_LOCK_MS', 30_000, 500, 600_000),
      stalledIntervalMs: int('TOWNHALL_QUEUE_STALLED_INTERVAL_MS', 30_000, 500, 600_000),
    },
    faults: { crashAfterProvisioningStep: crashAfter },
  };
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}

/** The injection token for the validated configuration. */
export const TOWNHALL_CONFIG = Symbol('TOWNHALL_CONFIG');
