import 'reflect-metadata';
import { exitWithProblems, runHttpApp } from '@townhall/platform';
import { InstanceAppModule } from './instance-app.module';
import { INSTANCE_DOCS_PATH, mountInstanceOpenApi } from './openapi';

/** The instance process alone: the Mastodon client API of every tenant, routed by Host. */
runHttpApp({
  name: 'instance',
  root: (config) => InstanceAppModule.forRoot(config),
  beforeListen: (app) => mountInstanceOpenApi(app),
  afterListen: (_app, _config, url, opsUrl) => {
    console.log(
      `[instance] client API at ${url}/api/v1, docs at ${url}${INSTANCE_DOCS_PATH}, health at ${opsUrl}/health/ready`,
    );
  },
}).catch((err: unknown) => exitWithProblems('instance', err));
