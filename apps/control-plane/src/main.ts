import 'reflect-metadata';
import { exitWithProblems, runHttpApp } from '@townhall/platform';
import { ControlPlaneAppModule } from './control-plane-app.module';
import { CONTROL_PLANE_DOCS_PATH, mountControlPlaneOpenApi } from './openapi';

/** The control-plane process alone: the operator API and the provisioning workers (bootstrap operator ensured at start). */
runHttpApp({
  name: 'control-plane',
  root: (config) => ControlPlaneAppModule.forRoot(config),
  beforeListen: (app) => mountControlPlaneOpenApi(app),
  afterListen: (_app, _config, url) => {
    console.log(
      `[control-plane] operator API at ${url}/api/platform/v1, docs at ${url}${CONTROL_PLANE_DOCS_PATH}`,
    );
  },
}).catch((err: unknown) => exitWithProblems('control-plane', err));
