import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AuditStore } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { LATEST_TENANT_VERSION } from '@townhall/persistence';
import { PlatformModule } from '@townhall/platform';
import {
  PROVISIONING_STEPS,
  ProvisioningModule,
  ProvisioningSaga,
  ProvisionTenantCommand,
  TenantLifecycle,
} from '@townhall/provisioning';
import { TenantEntity, TenantRegistry } from '@townhall/tenancy';
import { exportedLog } from '../support/audit';
import { createTestDatabase } from '../support/database';
import { startProvisioningContext, waitForTenantStatus } from '../support/tenants';

const WORKER = join(__dirname, '../../dist/test/support/provisioning-worker.js');

/**
 * Kills a real worker process with SIGKILL at every point of the provisioning saga — inside its one
 * transaction after each step's work and after its commit; and, when that transaction fails and the saga
 * goes on step by step, after each step's commit and in the middle of each step's transaction — then
 * lets a fresh worker take the job over and checks that the tenant becomes active exactly once, with
 * exactly one of everything the saga creates.
 *
 * Each doomed worker is a process of its own (a crash ends it); the next one is started while the
 * current point runs and learns its crash point when its turn comes, so Node's and Nest's start cost
 * no time of their own. The worker that takes over is started in this process: it is the same worker
 * module on the same queue, and what is tested of it — a stalled job taken over, the saga resumed after
 * the recorded step, a clean stop — needs no process of its own.
 */
describe('provisioning survives a crash at any step (real processes, PostgreSQL and Redis)', () => {
  let config: TownhallConfig;
  let drop: () => Promise<void>;
  let app: INestApplicationContext;
  let lifecycle: TenantLifecycle;
  let registry: TenantRegistry;
  let ds: DataSource;
  let env: Record<string, string>;
  const running = new Set<ChildProcess>();
  /** The next doomed worker, loaded and waiting for its crash point. */
  let spare: LoadedWorker | undefined;

  beforeAll(async () => {
    if (!existsSync(WORKER))
      throw new Error(`${WORKER} is missing: run \`npm run build\` first (npm test does).`);
    const db = await createTestDatabase({
      TOWNHALL_WORKERS: 'false',
      // A killed worker's job lock expires quickly so the next worker picks the job up within seconds.
      TOWNHALL_QUEUE_LOCK_MS: '1000',
      TOWNHALL_QUEUE_STALLED_INTERVAL_MS: '1000',
    });
    ({ config, drop } = db);
    ({ app, lifecycle, registry, ds } = await startProvisioningContext(config));
    env = {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: config.database.url,
      TOWNHALL_DATABASE_APP_ROLE: config.database.appRole ?? 'off',
      REDIS_URL: config.redis.url,
      TOWNHALL_REDIS_PREFIX: config.redis.keyPrefix,
      TOWNHALL_SECRET_KEY: config.secretKey!.toString('base64'),
      TOWNHALL_PUBLIC_SCHEME: 'http',
      TOWNHALL_ACTOR_KEY_POOL: config.provisioning.keyPoolSize.toString(),
      TOWNHALL_QUEUE_LOCK_MS: String(config.queue.lockDurationMs),
      TOWNHALL_QUEUE_STALLED_INTERVAL_MS: String(config.queue.stalledIntervalMs),
    };
  });

  afterAll(async () => {
    await Promise.all(
      [...running].map((child) => {
        const gone = exited(child);
        child.kill('SIGKILL');
        return gone;
      }),
    );
    await app?.close();
    await drop?.();
  });

  interface LoadedWorker {
    child: ChildProcess;
    stderr: () => string;
    /** Resolves once the process has loaded its code and waits for its crash point. */
    loaded: Promise<void>;
  }

  /** Starts a worker process that loads its code, then waits for its crash point on stdin. */
  function loadWorker(): LoadedWorker {
    const child = spawn(process.execPath, [WORKER, '--fault-from-stdin'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const loaded = new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('loaded\n')) resolve();
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`worker exited before loading (${code ?? signal}): ${stderr}`)),
      );
    });
    loaded.catch(() => undefined);
    return { child, stderr: () => stderr, loaded };
  }

  /** A worker that dies at `point`: the one loaded meanwhile, while the next one loads. */
  async function doomedWorker(point: string): Promise<ChildProcess> {
    const worker = spare ?? loadWorker();
    spare = loadWorker();
    await worker.loaded;
    worker.child.stdin!.end(`${point}\n`);
    return worker.child;
  }

  function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null)
        return resolve({ code: child.exitCode, signal: child.signalCode });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  /** The next worker, in this process: takes the stalled job over and finishes the saga. */
  async function survivingWorker(): Promise<INestApplicationContext> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        PlatformModule.forRoot({ ...config, provisioning: { ...config.provisioning, workers: true } }),
        ProvisioningModule,
      ],
    }).compile();
    return moduleRef.init();
  }

  /** One of everything the saga creates, and one `tenant.activate` entry in the audit log. */
  async function census(tenant: { id: string; schemaName: string }) {
    const schema = tenant.schemaName;
    const { entries } = await exportedLog(app.get(AuditStore));
    const activations = entries.filter((e) => e.action === 'tenant.activate' && e.tenant === tenant.id);
    const [row] = await ds.query(
      `SELECT (SELECT count(*)::int FROM ${schema}.accounts WHERE actor_type = 'Application') AS instance_actors,
              (SELECT count(*)::int FROM ${schema}.actor_keys) AS keys,
              (SELECT count(*)::int FROM ${schema}.users WHERE role = 'owner') AS owners,
              (SELECT count(*)::int FROM ${schema}.schema_migrations) AS migrations`,
    );
    return { ...row, activations: activations.length };
  }

  const crashPoints = [
    ...PROVISIONING_STEPS.map((step) => `during:${step}`),
    'active',
    ...PROVISIONING_STEPS.flatMap((step) => [`stepwise:${step}`, `stepwise:during:${step}`]),
  ];

  /** The step recorded on the tenant row when a worker dies at `point`. */
  function recordedStepAfter(point: string): string | null {
    if (point === 'active') return 'active';
    if (!point.startsWith('stepwise:')) return null; // the one transaction rolled back
    const rest = point.slice('stepwise:'.length);
    if (!rest.startsWith('during:')) return rest; // that step committed
    const index = PROVISIONING_STEPS.indexOf(rest.slice('during:'.length) as never);
    return index === 0 ? null : PROVISIONING_STEPS[index - 1];
  }

  it.each(crashPoints)(
    'a worker killed at "%s" is finished by the next worker, exactly once',
    async (point) => {
      const slug = `crash-${point.replace(/[^a-z]/g, '-').replace('stepwise', 'sw')}`.slice(0, 40);
      const tenant = await lifecycle.provision(
        new ProvisionTenantCommand({
          slug,
          domain: `${slug}.example`,
          displayName: slug,
          adminEmail: `owner@${slug}.example`,
        }),
      );

      const doomed = await doomedWorker(point);
      const death = await exited(doomed);
      expect(death.signal).toBe('SIGKILL');

      const afterCrash = (await registry.findById(tenant.id))!;
      const expectedStep = recordedStepAfter(point);
      expect(afterCrash.provisioningStep).toBe(expectedStep);
      expect(afterCrash.status).toBe(expectedStep === 'active' ? 'active' : 'provisioning');
      const activatedAtCrash = afterCrash.activatedAt;

      const survivor = await survivingWorker();
      let active: TenantEntity;
      try {
        active = await waitForTenantStatus(registry, tenant.id, ['active', 'failed'], 30_000);
      } finally {
        // Stops cleanly, the job it took over finished.
        await survivor.close();
      }

      expect(active.status).toBe('active');
      expect(active.failureReason).toBeNull();
      if (activatedAtCrash) expect(active.activatedAt).toEqual(activatedAtCrash);
      expect(await census(active)).toEqual({
        instance_actors: 1,
        keys: 1,
        owners: 1,
        migrations: LATEST_TENANT_VERSION,
        activations: 1,
      });
    },
  );

  it('two saga runs racing on the same tenant activate it exactly once', async () => {
    const saga = app.get(ProvisioningSaga);
    const tenant = await lifecycle.provision(
      new ProvisionTenantCommand({
        slug: 'race',
        domain: 'race.example',
        displayName: 'Race',
        adminEmail: 'o@race.example',
      }),
    );
    const outcomes = await Promise.all([saga.run(tenant.id), saga.run(tenant.id), saga.run(tenant.id)]);
    expect(outcomes.filter((o) => o === 'activated')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'already_done')).toHaveLength(2);
    const done = (await registry.findById(tenant.id))!;
    expect(done.status).toBe('active');
    expect(await census(done)).toEqual({
      instance_actors: 1,
      keys: 1,
      owners: 1,
      migrations: LATEST_TENANT_VERSION,
      activations: 1,
    });
  });
});
