import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { toProblem } from '@townhall/core';
import { HealthController } from './health.controller';
import { MetricsRegistry } from './metrics.registry';

/**
 * Health and metrics on a port of their own (TOWNHALL_OPS_PORT), for deployments that keep operations
 * traffic off the port the reverse proxy forwards to: a firewall or a Kubernetes port then decides who
 * may scrape, not a Host header. The main port stops answering these paths. Same answers as the main
 * port's controllers, which this calls; no other path exists here.
 */
export async function startOperationsServer(
  app: INestApplication,
  host: string,
  port: number,
): Promise<string> {
  const health = app.get(HealthController);
  const registry = app.get(MetricsRegistry);
  const server: Server = createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'Method not allowed\n');
    const path = (req.url ?? '/').split('?')[0];
    const answer = async () => {
      switch (path) {
        case '/health/live':
          return send(200, 'application/json', JSON.stringify(health.live()));
        case '/health/ready':
          return send(200, 'application/json', JSON.stringify(await health.ready()));
        case '/metrics':
          return send(200, registry.contentType, await registry.metrics());
        default:
          return send(404, 'text/plain', 'Not found\n');
      }
    };
    answer().catch((err: unknown) => {
      const problem = toProblem(err);
      send(problem.status, 'application/problem+json', JSON.stringify(problem));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  // Closed with the app: when Nest closes the main server, this one follows.
  (app.getHttpServer() as Server).once('close', () => server.close());
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}
