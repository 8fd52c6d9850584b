import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, INestApplication, Module, Post, UseGuards, UseInterceptors } from '@nestjs/common';
import request, { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { AuthModule, BOOTSTRAP_OPERATOR_NAME, OperatorAuthGuard, OperatorTokens } from '@townhall/auth';
import { AuditContext, AuditEntry, AuditStore, systemAuditContext } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { preparePlatform } from '@townhall/platform';
import { ControlPlaneAppModule } from '../../apps/control-plane/src/control-plane-app.module';
import { OperatorActionInterceptor } from '../../apps/control-plane/src/operator-action.interceptor';
import { exportedLog } from '../support/audit';
import { createTestDatabase } from '../support/database';
import { startHttpApp } from './instance-support';
import { expectProblem } from './operator-support';

const TOKEN = `operator-audit-test-${randomBytes(16).toString('hex')}`;
const BASE = '/api/platform/v1/tenants';
const USER_AGENT = 'operator-audit-test/1.0';
const ROOT = join(__dirname, '..', '..');

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

  async function waitForStatus(id: string, status: string): Promise<void> {
    const deadline = Date.now() + 45_000;
    while (((await api().get(`${BASE}/${id}`).set(auth)).body as { status: string }).status !== status) {
      if (Date.now() > deadline) throw new Error(`tenant ${id} did not become ${status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    ({ config, drop } = await createTestDatabase({
      TOWNHALL_OPERATOR_TOKEN: TOKEN,
      TOWNHALL_RATE_LIMIT: '100000',
    }));
    await preparePlatform(config, { migrate: true });
    app = await startHttpApp({
      module: class OperatorAuditTestModule {},
      imports: [ControlPlaneAppModule.forRoot(config), ForgetfulModule],
    });
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

  it('suspend, resume, delete and cancelling the deletion each record one entry with the transition', async () => {
    const { id } = await createTenant();
    await waitForStatus(id, 'active');
    const steps: [string, () => request.Test, string, Record<string, unknown>][] = [
      [
        'suspend',
        () => api().post(`${BASE}/${id}/suspend`).send({ reason: 'unpaid invoice' }),
        'tenant.suspend',
        { from: 'active', to: 'suspended', reason: 'unpaid invoice' },
      ],
      [
        'resume',
        () => api().post(`${BASE}/${id}/resume`),
        'tenant.resume',
        { from: 'suspended', to: 'active' },
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

  it('fails a change that forgot to record itself (outside production), and lets reads through', async () => {
    const read = await api().get('/api/platform/v1/forgetful').set(auth);
    expect(read.status).toBe(200);
    const forgot = await api().post('/api/platform/v1/forgetful').set(auth);
    const problem = expectProblem(forgot, 500);
    expect(JSON.stringify(problem)).not.toContain('audit');
  });

  /** Runs the built `townhall` command line on the test's database; resolves with its JSON output. */
  async function townhall(args: string[]): Promise<unknown> {
    if (!existsSync(join(ROOT, 'dist', 'apps', 'cli', 'src', 'main.js')))
      throw new Error('The CLI is not built: run `npm run build` before this test (npm test does).');
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'townhall.js'), ...args, '--json'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: config.database.url,
        REDIS_URL: config.redis.url,
        TOWNHALL_REDIS_PREFIX: config.redis.keyPrefix,
        TOWNHALL_SECRET_KEY: config.secretKey!.toString('base64'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (code !== 0) throw new Error(`townhall ${args.join(' ')} exited ${code}: ${stderr}`);
    return JSON.parse(stdout);
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
