import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { AuditStore } from '@townhall/compliance';
import { expectProblem } from './operator-support';
import { loggedEntries, RegulatorTestPlatform, startRegulatorPlatform } from './regulator-support';

/**
 * docs/compliance.md, "What is recorded": requests refused before any use case runs (a missing or
 * invalid token, a malformed body) are not recorded, and neither is reading checkpoints and keys — they
 * are the same for every regulator and disclose no entry. Reads of the operator API change nothing and
 * record nothing either. docs/operations.md, "Regulator access": a regulator may be given any tenant
 * the registry knows, deleted ones too, whose history stays auditable.
 */
describe('the regulator API and what the audit log does not record (real HTTP, PostgreSQL and Redis)', () => {
  let platform: RegulatorTestPlatform;
  let regulator: { Authorization: string };

  const api = () => request(platform.http);

  beforeAll(async () => {
    platform = await startRegulatorPlatform(['alpha', 'gone']);
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

  it('scopes a regulator to a deleted tenant, whose history it can still export', async () => {
    const gone = platform.tenantIds[1];
    // What the dropper leaves of a deleted tenant: the registry row, no domains.
    await platform.ds.query(`DELETE FROM platform.tenant_domains WHERE tenant_id = $1`, [gone]);
    await platform.ds.query(
      `UPDATE platform.tenants SET status = 'deleted', deleted_at = now() WHERE id = $1`,
      [gone],
    );
    const issued = await api()
      .post('/api/platform/v1/regulators')
      .set(platform.operator)
      .send({
        name: 'Archive',
        tenantIds: [gone],
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
    expect(issued.status).toBe(201);
    await platform.app.get(AuditStore).checkpointNow();
    const exported = await api()
      .get(`/api/regulator/v1/audit/export?tenant=${gone}`)
      .set({ Authorization: `Bearer ${(issued.body as { token: string }).token}` })
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => done(null, text));
      });
    expect(exported.status).toBe(200);
    const actions = (exported.body as string)
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as { type: string; entry?: { action: string; tenant: string } })
      .filter((l) => l.type === 'entry')
      .map((l) => [l.entry!.action, l.entry!.tenant]);
    expect(actions).toContainEqual(['tenant.create', gone]);
  });
});
