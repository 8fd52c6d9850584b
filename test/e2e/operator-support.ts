import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Response } from 'supertest';
import { configureHttpApp, TownhallConfig } from '@townhall/core';
import { ControlPlaneAppModule } from '../../apps/control-plane/src/control-plane-app.module';
import { mountControlPlaneOpenApi } from '../../apps/control-plane/src/openapi';

/** A control-plane app as its process builds it: root module, shared HTTP hardening, OpenAPI document. */
export async function startControlPlane(config: TownhallConfig): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [ControlPlaneAppModule.forRoot(config)],
  }).compile();
  const app = moduleRef.createNestApplication({ bufferLogs: true });
  configureHttpApp(app);
  mountControlPlaneOpenApi(app);
  await app.init();
  return app;
}

/** Asserts an RFC 9457 problem response that leaks no internals. */
export function expectProblem(res: Response, status: number, code?: string): void {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
  if (code !== undefined) expect(body.code).toBe(code);
  expect(body).not.toHaveProperty('stack');
  expect(res.text).not.toMatch(
    /\n\s+at |\bat [A-Za-z.]+ \(|QueryFailedError|\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\b|\.ts:\d+/,
  );
  expect(res.headers['x-request-id']).toEqual(expect.any(String));
}
