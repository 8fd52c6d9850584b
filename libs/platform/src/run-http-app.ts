import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  configureHttpApp,
  ConfigValidationError,
  createHttpAdapter,
  HTTP_APP_OPTIONS,
  loadConfig,
  TownhallConfig,
  type TownhallHttpApp,
} from '@townhall/core';
import { startOperationsServer } from './observability/operations-server';
import { preparePlatform, StartupError } from './prepare';

export interface HttpAppSpec {
  /** Shown in start-up lines and logs, e.g. "control-plane". */
  name: string;
  root: (config: TownhallConfig) => DynamicModule;
  /** Runs after the app is configured and before it listens: OpenAPI documents, demo data, … */
  beforeListen?: (app: INestApplication, config: TownhallConfig) => Promise<void> | void;
  /**
   * Runs once the app listens; `url` is where it can be reached, `opsUrl` where its health and metrics
   * are (the same, unless TOWNHALL_OPS_PORT is set).
   */
  afterListen?: (
    app: INestApplication,
    config: TownhallConfig,
    url: string,
    opsUrl: string,
  ) => Promise<void> | void;
  /** Resolve the configuration before checks (the all-in-one may start an embedded PostgreSQL). */
  resolveConfig?: (config: TownhallConfig) => Promise<TownhallConfig>;
}

/**
 * The common `main` of every HTTP process: validated configuration (one line per problem, then exit 1),
 * start-up checks and platform migrations, the Nest app with the shared HTTP hardening, and listen.
 */
export async function runHttpApp(spec: HttpAppSpec): Promise<INestApplication> {
  let config: TownhallConfig;
  try {
    config = loadConfig();
    if (spec.resolveConfig) config = await spec.resolveConfig(config);
    await preparePlatform(config, { migrate: true, log: (l) => console.log(`[${spec.name}] ${l}`) });
  } catch (err) {
    exitWithProblems(spec.name, err);
  }
  const app = await NestFactory.create<TownhallHttpApp>(
    spec.root(config),
    createHttpAdapter(config),
    HTTP_APP_OPTIONS,
  );
  await configureHttpApp(app);
  await spec.beforeListen?.(app, config);
  await app.listen(config.http.port, config.http.host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${config.http.host}:${address.port}`;
  const opsUrl =
    config.http.opsPort === undefined
      ? url
      : await startOperationsServer(app, config.http.host, config.http.opsPort);
  console.log(`[${spec.name}] Listening on ${url}`);
  await spec.afterListen?.(app, config, url, opsUrl);
  return app;
}

export function exitWithProblems(name: string, err: unknown): never {
  if (err instanceof ConfigValidationError || err instanceof StartupError) {
    console.error(`[${name}] cannot start:`);
    for (const p of err.problems) console.error(`  - ${p}`);
  } else {
    console.error(`[${name}] cannot start: ${(err as Error)?.message ?? String(err)}`);
  }
  process.exit(1);
}
