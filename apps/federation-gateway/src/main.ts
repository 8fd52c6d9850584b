import 'reflect-metadata';
import { exitWithProblems, runHttpApp } from '@townhall/platform';
import { FederationGatewayAppModule } from './federation-gateway-app.module';
import { GATEWAY_DOCS_PATH, mountGatewayOpenApi } from './openapi';

/** The federation gateway process alone: the ActivityPub edge of every tenant domain, routed by Host. */
runHttpApp({
  name: 'federation-gateway',
  root: (config) => FederationGatewayAppModule.forRoot(config),
  beforeListen: (app) => mountGatewayOpenApi(app),
  afterListen: (_app, _config, url, opsUrl) => {
    console.log(
      `[federation-gateway] ActivityPub edge at ${url}, docs at ${url}${GATEWAY_DOCS_PATH}, health at ${opsUrl}/health/ready`,
    );
  },
}).catch((err: unknown) => exitWithProblems('federation-gateway', err));
