import 'reflect-metadata';
import { exitWithProblems, resolveDatabase, runHttpApp } from '@townhall/platform';
import { CONTROL_PLANE_DOCS_PATH, mountControlPlaneOpenApi } from '../../control-plane/src/openapi';
import { mountGatewayOpenApi } from '../../federation-gateway/src/openapi';
import { INSTANCE_DOCS_PATH, mountInstanceOpenApi } from '../../instance/src/openapi';
import { AllInOneModule } from './all-in-one.module';
import { DemoTenant } from './demo-tenant';

const say = (line: string) => console.log(`[townhall] ${line}`);

/**
 * `npm start`: every app in one process. For a local trial (not production) links default to
 * http://DOMAIN:PORT so the demo tenant's documents point where it can actually be reached.
 */
runHttpApp({
  name: 'townhall',
  root: (config) => AllInOneModule.forRoot(config),
  resolveConfig: async (config) => {
    let resolved = await resolveDatabase(config, say);
    if (resolved.env !== 'production' && process.env.TOWNHALL_PUBLIC_SCHEME === undefined) {
      resolved = {
        ...resolved,
        publicUrl: { scheme: 'http', port: resolved.publicUrl.port ?? resolved.http.port },
      };
    }
    return resolved;
  },
  beforeListen: (app) => {
    mountControlPlaneOpenApi(app);
    mountInstanceOpenApi(app);
    mountGatewayOpenApi(app);
  },
  afterListen: async (app, config, url, opsUrl) => {
    const demo = app.get(DemoTenant);
    const token = await demo.firstOperatorToken();
    const tenant = await demo.ensure(say);
    const port = new URL(url).port;
    say(`Operator API:  ${url}/api/platform/v1  (docs ${url}${CONTROL_PLANE_DOCS_PATH})`);
    if (token) say(`Operator token (shown once, keep it): ${token}`);
    if (tenant) {
      const domain = config.demo.domain;
      say(`Demo tenant:   http://${domain}:${port}/api/v1/instance  (docs ${url}${INSTANCE_DOCS_PATH})`);
      say(`  try: curl -s -H 'Host: ${domain}' ${url}/api/v1/instance`);
    }
    say(`Health:        ${opsUrl}/health/ready   Metrics: ${opsUrl}/metrics`);
  },
}).catch((err: unknown) => exitWithProblems('townhall', err));
