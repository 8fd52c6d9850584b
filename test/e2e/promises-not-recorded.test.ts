import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { AuditStore } from '@townhall/compliance';
import { expectProblem } from './operator-support';
import { loggedEntries, RegulatorTestPlatform, startRegulatorPlatform } from './regulator-support';

/**
 * docs/compliance.md, "What is recorded": requests refused before any use case runs (a missing or
 * invalid token, a malformed body) are not recorded, and neither is reading checkpoints and keys — they
 * are the same for every regulator and disclose no entry. Reads of the operator API change nothing and
 * record nothing either.
 */
describe('what the audit log does not record (real HTTP, PostgreSQL and Redis)', () => {
  let platform: RegulatorTestPlatform;
  let regulator: { Authorization: string };

  const api = () => request(platform.http);

  beforeAll(async () => {
    platform = await startRegulatorPlatform(['alpha']);
    const issued = await api()
      .post('/api/platform/v1/regulators')
      .set(platform.operator)
      .send({ name: 'Reader', all: true, expiresAt: new Date(Date.now() + 86_400_000).toISOString() });
    expect(issued.status).toBe(201);
    regulator = { Authorization: `Bearer ${(issued.body as { token: string }).token}` };
    await platform.app.get(AuditStore).checkpointNow();
  });

  afterAll(async () => {
    await platform?.close();
  });

  /** Runs `requests` and returns the entries the log gained meanwhile. */
  async function recordedBy(requests: () => Promise<void>): Promise<string[]> {
    const before = (await loggedEntries(platform.app)).length;
    await requests();
    return (await loggedEntries(platform.app)).slice(before).map((e) => `${e.outcome} ${e.action}`);
  }

  it('records no reading of checkpoints and keys', async () => {
    expect(
      await recordedBy(async () => {
        expect((await api().get('/api/regulator/v1/checkpoints').set(regulator)).status).toBe(200);
        expect((await api().get('/api/regulator/v1/checkpoints/latest').set(regulator)).status).toBe(200);
        expect((await api().get('/api/regulator/v1/audit/keys').set(regulator)).status).toBe(200);
        expect((await api().get('/api/platform/v1/audit/keys')).status).toBe(200);
      }),
    ).toEqual([]);
  });

  it('records no request refused for its token, nor one with a malformed body', async () => {
    const forged = { Authorization: `Bearer thrg_${randomBytes(32).toString('base64url')}` };
    expect(
      await recordedBy(async () => {
        expectProblem(await api().post('/api/platform/v1/tenants').send({ slug: 'x' }), 401);
        expectProblem(
          await api().post('/api/platform/v1/tenants').set({ Authorization: 'Bearer not-a-token' }).send({}),
          401,
        );
        expectProblem(await api().get('/api/regulator/v1/audit/export?tenant=1').set(forged), 401);
        expectProblem(await api().get('/api/regulator/v1/audit/export').set(platform.operator), 401);
        expectProblem(
          await api().post('/api/platform/v1/tenants').set(platform.operator).send({ slug: 'x', extra: 1 }),
          400,
        );
      }),
    ).toEqual([]);
  });

  it('records no read of the operator API', async () => {
    expect(
      await recordedBy(async () => {
        expect((await api().get('/api/platform/v1/tenants').set(platform.operator)).status).toBe(200);
        expect(
          (await api().get(`/api/platform/v1/tenants/${platform.tenantIds[0]}`).set(platform.operator))
            .status,
        ).toBe(200);
        expect((await api().get('/api/platform/v1/regulators').set(platform.operator)).status).toBe(200);
      }),
    ).toEqual([]);
  });
});
