import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname, userInfo } from 'node:os';
import { Controller, Get, INestApplication, Module, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import request, { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { AuthModule, BOOTSTRAP_OPERATOR_NAME, OperatorAuthGuard, OperatorTokens } from '@townhall/auth';
import { AuditContext, AuditEntry, AuditStore, systemAuditContext } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { ControlPlaneAppModule } from '../../apps/control-plane/src/control-plane-app.module';
import { mountControlPlaneOpenApi } from '../../apps/control-plane/src/openapi';
import { OperatorActionInterceptor } from '../../apps/control-plane/src/operator-action.interceptor';
import { exportedLog } from '../support/audit';
import { cliEnv, runCliInProcess } from '../support/cli';
import { createTestDatabase } from '../support/database';
import { waitForStatus } from '../support/wait';
import { startHttpApp } from './instance-support';
import { expectProblem } from './operator-support';

const TOKEN = `operator-audit-test-${randomBytes(16).toString('hex')}`;
const BASE = '/api/platform/v1/tenants';
const USER_AGENT = 'operator-audit-test/1.0';

/** A change that forgets to record itself: what the interceptor must catch. */
@Controller('api/platform/v1/forgetful')
@UseGuards(OperatorAuthGuard)
@UseInterceptors(OperatorActionInterceptor)
class ForgetfulController {
  @Post()
  change(): { changed: boolean } {
    return { changed: true };
  }

  @Get()
  read(): { read: boolean } {
    return { read: true };
  }
}

@Module({ imports: [AuthModule], controllers: [ForgetfulController] })
class ForgetfulModule {}

/**
 * The operator API and CLI as a regulator later reads them: every change an operator makes is one
 * entry naming the operator and token, the action, its target and tenant and the response's request
 * id, with no e-mail address, IP address or user agent in it; refusals are entries too.
 */
describe('auditing operator actions (real HTTP, PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplication;
  let http: Server;
  let ds: DataSource;
  let store: AuditStore;
  let bootstrap: { id: string; tokenId: string };
  let n = 0;

  const auth = { Authorization: `Bearer ${TOKEN}`, 'User-Agent': USER_AGENT };
  const api = () => request(http);

  const exportLog = () => exportedLog(store);

  /** The entries a response's request recorded, by its X-Request-Id. */
  async function recordedBy(res: Response): Promise<AuditEntry[]> {
    const requestId = res.headers['x-request-id'] as string;
    expect(requestId).toEqual(expect.any(String));
    return (await exportLog()).entries.filter((e) => e.requestId === requestId);
  }

  /** Exactly one entry, by the bootstrap operator through its token, with nothing personal in it. */
  async function theEntryOf(res: Response): Promise<AuditEntry> {
    const entries = await recordedBy(res);
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry.actor).toEqual({ type: 'operator', id: bootstrap.id, via: `token:${bootstrap.tokenId}` });
    const text = JSON.stringify(entry);
    for (const personal of ['@', '127.0.0.1', USER_AGENT]) expect(text).not.toContain(personal);
    return entry;
  }

  async function createTenant(): Promise<{ id: string; res: Response }> {
    n += 1;
    const res = await api()
      .post(BASE)
      .set(auth)
      .send({
        slug: `agency-${n}`,
        domain: `social.agency-${n}.example`,
        displayName: `Agency ${n}`,
        adminEmail: `press@agency-${n}.example`,
      });
    expect(res.status).toBe(202);
    return { id: (res.body as { id: string }).id, res };
  }

  async function tenantReaches(id: string, status: string): Promise<void> {
    await waitForStatus(
      async () => (await api().get(`${BASE}/${id}`).set(auth)).body as { status: string },
      [status],
      { what: `tenant ${id}` },
    );
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({
      TOWNHALL_OPERATOR_TOKEN: TOKEN,
      TOWNHALL_RATE_LIMIT: '100000',
    }));
    await preparePlatform(config, { migrate: true });
    app = await startHttpApp(
      {
        module: class OperatorAuditTestModule {},
        imports: [ControlPlaneAppModule.forRoot(config), ForgetfulModule],
      },
      mountControlPlaneOpenApi,
    );
    http = app.getHttpServer() as Server;
    ds = app.get(DataSource);
    store = app.get(AuditStore);
    [bootstrap] = (await ds.query(
      `SELECT id::text AS id, token_id::text AS "tokenId" FROM platform.operators WHERE name = $1`,
      [BOOTSTRAP_OPERATOR_NAME],
    )) as { id: string; tokenId: string }[];
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  it('records the bootstrap operator once, as done by the control plane from its configuration', async () => {
    await AuditContext.run(systemAuditContext('control-plane'), () =>
      app.get(OperatorTokens).ensureBootstrapOperator(TOKEN),
    ); // a second start with the same token changes nothing
    const entries = (await exportLog()).entries.filter((e) => e.action === 'operator.bootstrap');
    expect(entries).toEqual([
      expect.objectContaining({
        actor: { type: 'system', id: 'control-plane' },
        target: { type: 'operator', id: bootstrap.id },
        tenant: null,
        outcome: 'success',
        details: { tokenId: bootstrap.tokenId, change: 'created' },
        requestId: expect.any(String),
      }),
    ]);
  });

  it('POST /tenants records tenant.create with the owner only as a subject id', async () => {
    const { id, res } = await createTenant();
    const entry = await theEntryOf(res);
    expect(entry).toMatchObject({
      action: 'tenant.create',
      target: { type: 'tenant', id },
      tenant: id,
      outcome: 'success',
      details: {
        slug: `agency-${n}`,
        domain: `social.agency-${n}.example`,
        subjects: [expect.stringMatching(/^\d+$/)],
        personalDataRef: expect.any(String),
      },
    });
  });

  it('suspend, resume, a media quota, delete and cancelling the deletion each record one entry with the transition', async () => {
    const { id } = await createTenant();
    await tenantReaches(id, 'active');
    const steps: [string, () => request.Test, string, Record<string, unknown>][] = [
      [
        'suspend',
        () => api().post(`${BASE}/${id}/suspend`).send({ reason: 'unpaid invoice' }),
        'tenant.suspend',
        { from: 'active', to: 'suspended', reasonLength: 'unpaid invoice'.length },
      ],
      [
        'resume',
        () => api().post(`${BASE}/${id}/resume`),
        'tenant.resume',
        { from: 'suspended', to: 'active' },
      ],
      [
        'media quota',
        () => api().put(`${BASE}/${id}/media-quota`).send({ bytes: 5_000_000 }),
        'tenant.media_quota',
        { from: 'active', to: 'active', mediaQuotaBytes: 5_000_000 },
      ],
      [
        'delete',
        () => api().delete(`${BASE}/${id}?graceSeconds=3600`),
        'tenant.delete',
        { from: 'active', to: 'deleting', graceSeconds: 3600 },
      ],
      [
        'cancel',
        () => api().post(`${BASE}/${id}/resume`),
        'tenant.resume',
        { from: 'deleting', to: 'active' },
      ],
    ];
    for (const [, send, action, details] of steps) {
      const res = await send().set(auth);
      expect(res.status).toBeLessThan(300);
      expect(await theEntryOf(res)).toMatchObject({
        action,
        target: { type: 'tenant', id },
        tenant: id,
        outcome: 'success',
        details,
      });
    }
  });

  it('POST /tenants/{id}/retry records tenant.retry with the attempt', async () => {
    const [{ id }] = (await ds.query(`SELECT platform.next_id()::text AS id`)) as [{ id: string }];
    await ds.query(
      `INSERT INTO platform.tenants (id, slug, display_name, admin_email, status, cell_id, schema_name, failure_reason, provisioning_attempts)
       VALUES ($1, 'failed-agency', 'Failed Agency', 'it@failed.example', 'failed', 'default', $2, 'boom', 3)`,
      [id, `tenant_${id}`],
    );
    const res = await api().post(`${BASE}/${id}/retry`).set(auth);
    expect(res.status).toBe(200);
    expect(await theEntryOf(res)).toMatchObject({
      action: 'tenant.retry',
      target: { type: 'tenant', id },
      tenant: id,
      details: { from: 'failed', to: 'provisioning', attempt: 4 },
    });
  });

  it('records refused actions (409, 404) with outcome failure, and nothing for a malformed request', async () => {
    const { id } = await createTenant();
    const conflict = await api().post(`${BASE}/${id}/resume`).set(auth);
    expectProblem(conflict, 409, 'invalid_transition');
    expect(await theEntryOf(conflict)).toMatchObject({
      action: 'tenant.resume',
      outcome: 'failure',
      target: { type: 'tenant', id },
      tenant: id,
      details: { error: 'invalid_transition' },
    });

    const taken = await api()
      .post(BASE)
      .set(auth)
      .send({
        slug: `agency-${n}`,
        domain: 'other.example',
        displayName: 'Other',
        adminEmail: 'x@other.example',
      });
    expectProblem(taken, 409, 'slug_taken');
    expect(await theEntryOf(taken)).toMatchObject({
      action: 'tenant.create',
      outcome: 'failure',
      target: { type: 'tenant', id: 'unknown' },
      tenant: null,
      details: { slug: `agency-${n}`, domain: 'other.example', error: 'slug_taken' },
    });

    const missing = await api().delete(`${BASE}/424242`).set(auth);
    expectProblem(missing, 404, 'tenant_not_found');
    expect(await theEntryOf(missing)).toMatchObject({
      action: 'tenant.delete',
      outcome: 'failure',
      target: { type: 'tenant', id: '424242' },
      tenant: null,
    });

    const malformed = await api().post(`${BASE}/${id}/suspend`).set(auth).send({ reason: '' });
    expectProblem(malformed, 400);
    expect(await recordedBy(malformed)).toEqual([]);
  });

  it('POST /audit/checkpoints signs a checkpoint now, covering the entry that records the request', async () => {
    const res = await api().post('/api/platform/v1/audit/checkpoints').set(auth);
    expect(res.status).toBe(201);
    const checkpoint = res.body as { treeSize: number; rootHash: string; keyId: string; signature: string };
    expect(checkpoint).toMatchObject({ rootHash: expect.any(String), signature: expect.any(String) });
    const entry = await theEntryOf(res);
    expect(entry).toMatchObject({
      action: 'audit.checkpoint',
      target: { type: 'audit_log', id: 'platform' },
      tenant: null,
      outcome: 'success',
    });
    expect(entry.seq).toBe(checkpoint.treeSize - 1);
    expect(await store.listCheckpoints({ after: checkpoint.treeSize - 1, limit: 1 })).toEqual([checkpoint]);

    expectProblem(await api().post('/api/platform/v1/audit/checkpoints'), 401);
  });

  it('POST /audit/subjects/lookup and /{id}/erase find and erase a person, each recorded', async () => {
    const { id } = await createTenant();
    const identifier = `email:press@agency-${n}.example`;
    const lookup = await api().post('/api/platform/v1/audit/subjects/lookup').set(auth).send({ identifier });
    expect(lookup.status).toBe(200);
    const { subjectId } = lookup.body as { subjectId: string };
    const created = (await exportLog()).entries.find((e) => e.action === 'tenant.create' && e.tenant === id)!;
    expect(created.details.subjects).toEqual([subjectId]);
    expect(await theEntryOf(lookup)).toMatchObject({
      action: 'audit.subject.lookup',
      target: { type: 'audit_subject', id: subjectId },
      details: { found: true },
    });

    const erase = await api().post(`/api/platform/v1/audit/subjects/${subjectId}/erase`).set(auth);
    expect(erase.status).toBe(204);
    expect(await theEntryOf(erase)).toMatchObject({
      action: 'audit.subject.erase',
      target: { type: 'audit_subject', id: subjectId },
      outcome: 'success',
    });
    const [row] = (await ds.query(`SELECT key_sealed FROM platform.audit_subjects WHERE id = $1`, [
      subjectId,
    ])) as { key_sealed: string | null }[];
    expect(row.key_sealed).toBeNull();

    const gone = await api().post('/api/platform/v1/audit/subjects/lookup').set(auth).send({ identifier });
    expectProblem(gone, 404, 'audit_subject_not_found');
    expect(await theEntryOf(gone)).toMatchObject({
      action: 'audit.subject.lookup',
      details: { found: false },
    });
    const again = await api().post(`/api/platform/v1/audit/subjects/${subjectId}/erase`).set(auth);
    expectProblem(again, 404, 'audit_subject_not_found');
    expect(await theEntryOf(again)).toMatchObject({ action: 'audit.subject.erase', outcome: 'failure' });

    const malformed = await api()
      .post('/api/platform/v1/audit/subjects/lookup')
      .set(auth)
      .send({ identifier: '' });
    expectProblem(malformed, 400);
    expect(await recordedBy(malformed)).toEqual([]);
    expectProblem(await api().post(`/api/platform/v1/audit/subjects/${subjectId}/erase`), 401);

    // The operator's own subject (their IP address and user agent) is not theirs to erase.
    const mine = await api()
      .post('/api/platform/v1/audit/subjects/lookup')
      .set(auth)
      .send({ identifier: `operator:${bootstrap.id}` });
    expect(mine.status).toBe(200);
    const own = (mine.body as { subjectId: string }).subjectId;
    const refused = await api().post(`/api/platform/v1/audit/subjects/${own}/erase`).set(auth);
    expectProblem(refused, 403, 'audit_subject_is_own');
    expect(await theEntryOf(refused)).toMatchObject({
      action: 'audit.subject.erase',
      outcome: 'failure',
      details: { error: 'audit_subject_is_own' },
    });
  });

  it('documents the audit endpoints in the operator OpenAPI document, behind the operator token', async () => {
    const doc = (await api().get('/api/platform/docs/openapi.json')).body as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    const documented = {
      '/api/platform/v1/audit/checkpoints': ['201', '401', '429'],
      '/api/platform/v1/audit/subjects/lookup': ['200', '400', '401', '404', '429'],
      '/api/platform/v1/audit/subjects/{id}/erase': ['204', '401', '403', '404', '429'],
    };
    for (const [path, statuses] of Object.entries(documented)) {
      const op = doc.paths[path].post;
      expect({ path, security: op.security }).toEqual({ path, security: [{ bearer: [] }] });
      expect(Object.keys(op.responses).sort()).toEqual(statuses);
    }
  });

  it('fails a change that forgot to record itself (outside production), and lets reads through', async () => {
    const read = await api().get('/api/platform/v1/forgetful').set(auth);
    expect(read.status).toBe(200);
    const forgot = await api().post('/api/platform/v1/forgetful').set(auth);
    const problem = expectProblem(forgot, 500);
    expect(JSON.stringify(problem)).not.toContain('audit');
  });

  /** Runs a `townhall` command (in this process) on the test's database; resolves with its JSON output. */
  async function townhall(args: string[]): Promise<unknown> {
    const run = await runCliInProcess([...args, '--json'], cliEnv(config));
    if (run.code !== 0) throw new Error(`townhall ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout);
  }

  it('records what the CLI does as the system actor cli, on behalf of a pseudonymous OS account', async () => {
    const created = (await townhall(['operators', 'create', 'cli-made'])) as {
      operator: { id: string; tokenId: string };
    };
    await townhall(['operators', 'revoke', 'cli-made']);

    const { entries, text } = await exportLog();
    const cli = { type: 'system', id: 'cli', onBehalfOf: expect.stringMatching(/^\d+$/) };
    const target = { type: 'operator', id: created.operator.id };
    const [create, revoke] = entries.filter((e) => e.target.id === created.operator.id);
    expect(create).toMatchObject({
      action: 'operator.create',
      actor: cli,
      target,
      tenant: null,
      outcome: 'success',
      details: { tokenId: created.operator.tokenId, subjects: [expect.any(String)] },
    });
    expect(revoke).toMatchObject({
      action: 'operator.revoke',
      actor: { ...cli, onBehalfOf: create.actor.onBehalfOf }, // the same person, by the same pseudonym
      target,
      details: { tokenId: created.operator.tokenId, alreadyRevoked: false },
    });
    expect(revoke.requestId).not.toBe(create.requestId); // one per command
    expect(text).not.toContain('cli-made');
    expect(text).not.toContain(`${userInfo().username}@${hostname()}`);
  });
});
