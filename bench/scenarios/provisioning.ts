import { AsyncLocalStorage } from 'node:async_hooks';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Redis from 'ioredis';
import { Client, Pool } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { generateActorKeyPair } from '@townhall/activitypub';
import { AuditContext, systemAuditContext } from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { dataSourceOptions, quoteIdent, TENANT_MIGRATIONS } from '@townhall/persistence';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import {
  ActorKeyPool,
  PROVISIONING_STEPS,
  ProvisioningModule,
  ProvisioningSaga,
  ProvisioningStep,
  ProvisionTenantCommand,
  TenantLifecycle,
} from '@townhall/provisioning';
import { migrateTenantSchema, TenantEntity, TenantRegistry, tenantSchemaName } from '@townhall/tenancy';
import { benchConfig, DEFAULT_BENCH_DATABASE_URL, freshBenchDatabase } from '../support/bench-database';
import { machineInfo } from '../support/machine';
import type { ResultRow, Scenario, ScenarioContext, ScenarioReport } from '../support/scenario';
import { mapWithConcurrency, progressReporter, round, summarize, Summary, timed } from '../support/stats';

/**
 * Provisioning latency and throughput on a fresh database, through the real use case
 * (`TenantLifecycle.provision`), queue and worker (`ProvisioningSaga`, `ActorKeyPool`), next to the cost
 * of the bare SQL that creates a tenant schema and of RSA key generation alone, so the saga's overhead
 * is visible.
 *
 * The machine this runs on may be shared, and its load drifts; so the bare DDL is measured in several
 * ways: alone before and after the saga, paired (alternating) with what it is compared to, and as a
 * sidecar that creates one bare schema every half second while the saga runs, under the same load.
 *
 * Phases: key generation; bare DDL paired with the saga's own migrator; N tenants through the saga with
 * an empty key pool (keys generated inline); bare DDL after (catalog holding N tenant schemas); the pool
 * filled with N keys by `ActorKeyPool.refill`; N more tenants through the saga with that warm pool. A
 * fresh tenant takes the saga's one-transaction path, so a run is one row lock, the steps and one commit.
 */
export const provisioningScenario: Scenario = {
  name: 'provisioning',
  description:
    'Tenants provisioned through the saga (empty and warm actor key pool) vs the bare DDL of a tenant schema, and RSA key generation',
  options: [
    {
      name: 'tenants',
      kind: 'int',
      default: 200,
      min: 1,
      max: 2000,
      description: 'tenants provisioned through the saga in each phase (cold pool, warm pool)',
    },
    { name: 'bare', kind: 'int', default: 100, min: 1, max: 1000, description: 'schemas per bare-DDL phase' },
    {
      name: 'keys',
      kind: 'int',
      default: 50,
      min: 1,
      max: 1000,
      description: 'RSA-2048 key pairs per keygen phase',
    },
    {
      name: 'in-flight',
      kind: 'int',
      default: 0,
      min: 0,
      max: 256,
      description: 'tenants submitted and not yet settled (0: 2 x worker concurrency)',
    },
  ],
  run: runProvisioningBench,
};

/** Durations of one measurement, its wall-clock time, and the 1-minute load average around it. */
interface Timings {
  samples: number[];
  wallMs: number;
  load: { before: number; after: number };
}

/** One `ActorKeyPool.refill(target)`: the CPU cost the pool moves off the provisioning path. */
interface PoolFill {
  keys: number;
  wallMs: number;
  load: { before: number; after: number };
}

// ---------------------------------------------------------------------------------------------------------------
// The run

async function runProvisioningBench(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options, log } = ctx;
  const tenants = options.int('tenants');
  const bareCount = options.int('bare');
  const keyCount = options.int('keys');

  const db = await freshBenchDatabase(process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL);
  const prefix = `th_bench_${process.pid}`;
  const config = benchConfig(db, {
    TOWNHALL_REDIS_PREFIX: prefix,
    TOWNHALL_WORKERS: 'true',
    // No background refill in this application context: in the cold phase the pool must stay empty (keys
    // are generated inline, as with TOWNHALL_ACTOR_KEY_POOL=0 in production); in the warm phase the bench
    // fills it beforehand and a refill after each job would only compete with the measured saga for CPU.
    TOWNHALL_ACTOR_KEY_POOL: '0',
  });
  const c = config.provisioning.concurrency;
  const window = options.int('in-flight') || 2 * c;
  log(`database ${db.name}, worker concurrency ${c}, in flight ${window}, pool ${config.database.poolSize}`);

  const machine = await machineInfo(db.url);
  let app: INestApplicationContext | undefined;
  const bare = new Pool({ connectionString: db.url, max: c + 1 });
  const dbOptions = dataSourceOptions(config);
  const ds = new DataSource({ ...dbOptions, entities: [], extra: { ...dbOptions.extra, max: c } });
  const observer = new Client({ connectionString: db.url });
  const phase = (line: string) => log(`${line} (load ${loadavg()[0].toFixed(2)})`);
  try {
    await preparePlatform(config, { migrate: true });
    await observer.connect();
    await ds.initialize();

    // 1. RSA-2048 key generation alone: one at a time, then as many at once as the workers run.
    phase(`keygen: ${keyCount} RSA-2048 key pairs one at a time, then ${keyCount} at ${c} at once`);
    const keygenSeq = await measure(keyCount, 1, keygen);
    const keygenConc = await measure(keyCount, c, keygen);

    // 2. The bare DDL of one tenant schema on an empty catalog, alternating with the same DDL through
    //    the saga's own migrator, so both see the same load.
    phase(
      `bare DDL paired with migrateTenantSchema: ${bareCount} each one at a time, then ${bareCount} each ${c} at once`,
    );
    const pairedSeq = await measurePair(bareCount, 1, bareDdl(bare, 'seq'), migrator(ds));
    const pairedConc = await measurePair(bareCount, c, bareDdl(bare, 'conc'), migrator(ds));

    // 3. The saga with an empty pool, through the use case, the queue and the worker, with the sidecar.
    app = await NestFactory.createApplicationContext(ProvisioningBenchModule.forRoot(config), {
      logger: ['error', 'warn'],
    });
    const probe = SagaProbe.install(app);
    const keyPool = app.get(ActorKeyPool);
    await expectPoolSize(keyPool, 0, 'before the cold-pool phase');
    phase(`saga, cold pool: ${tenants} tenants, ${window} in flight, bare-DDL sidecar every 500 ms`);
    const cold = await provisionThroughSaga(app, observer, probe, bare, {
      count: tenants,
      offset: 0,
      window,
      label: 'saga, cold pool',
      log,
    });
    await expectPoolSize(keyPool, 0, 'after the cold-pool phase');

    // 4. The bare DDL alone again, now that the catalog holds the tenants' schemas.
    phase(`bare DDL: ${bareCount} schemas one at a time, catalog holding ${tenants} tenant schemas`);
    const bareAfter = await measure(bareCount, 1, bareDdl(bare, 'after'));

    // 5. The pool filled with one key per tenant of the next phase, by the product's own refill.
    phase(`pool fill: ActorKeyPool.refill(${tenants}), one key at a time`);
    const fill = await fillPool(keyPool, tenants);
    await expectPoolSize(keyPool, tenants, 'after the fill');

    // 6. The saga again, every tenant taking its key from the pool inside its instance_actor step.
    phase(`saga, warm pool: ${tenants} tenants, ${window} in flight, bare-DDL sidecar every 500 ms`);
    const warm = await provisionThroughSaga(app, observer, probe, bare, {
      count: tenants,
      offset: tenants,
      window,
      label: 'saga, warm pool',
      log,
    });
    const poolLeft = await keyPool.size();
    return buildReport({
      machine,
      config,
      window,
      tenants,
      keygenSeq,
      keygenConc,
      pairedSeq,
      pairedConc,
      cold,
      bareAfter,
      fill,
      warm,
      poolLeft,
    });
  } finally {
    await app?.close().catch(() => undefined);
    await observer.end().catch(() => undefined);
    await bare.end().catch(() => undefined);
    if (ds.isInitialized) await ds.destroy().catch(() => undefined);
    await deleteRedisKeys(config.redis.url, prefix).catch(() => undefined);
    if (options.flag('keep')) log(`kept database ${db.name}`);
    else await db.drop();
  }
}

@Module({})
class ProvisioningBenchModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return { module: ProvisioningBenchModule, imports: [PlatformModule.forRoot(config), ProvisioningModule] };
  }
}

/** Tops the pool up to `target` with the product's refill and times it. */
async function fillPool(pool: ActorKeyPool, target: number): Promise<PoolFill> {
  const before = loadavg()[0];
  const { ms, value: keys } = await timed(() => pool.refill(target));
  return { keys, wallMs: ms, load: { before, after: loadavg()[0] } };
}

/** A phase measures what it claims only if the pool holds what it should; say so loudly otherwise. */
async function expectPoolSize(pool: ActorKeyPool, expected: number, when: string): Promise<void> {
  const size = await pool.size();
  if (size !== expected)
    throw new Error(`The actor key pool holds ${size} keys ${when}, expected ${expected}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

/**
 * A unit of measured work: does item `i` and returns how long the part that counts took, in
 * milliseconds (clean-up such as dropping a bare schema happens after, untimed).
 */
type Work = (i: number) => Promise<number>;

const keygen: Work = async () => (await timed(() => generateActorKeyPair())).ms;

/** Runs `work` `count` times, `concurrency` at once, after one untimed round per lane to warm up. */
async function measure(count: number, concurrency: number, work: Work): Promise<Timings> {
  await mapWithConcurrency(range(concurrency), concurrency, (i) => work(count + i));
  const before = loadavg()[0];
  const start = performance.now();
  const samples = await mapWithConcurrency(range(count), concurrency, (i) => work(i));
  return { samples, wallMs: performance.now() - start, load: { before, after: loadavg()[0] } };
}

/**
 * Runs `a` and `b` `count` times each, alternating in every lane (and alternating which goes first), so
 * drift in the machine's load falls on both alike. `warmUp` runs one untimed pair per lane first.
 */
async function measurePair(
  count: number,
  concurrency: number,
  a: Work,
  b: Work,
): Promise<{ a: Timings; b: Timings }> {
  await mapWithConcurrency(
    range(concurrency),
    concurrency,
    async (i) => (await a(count + i), await b(count + i)),
  );
  const before = loadavg()[0];
  const start = performance.now();
  const as: number[] = [];
  const bs: number[] = [];
  await mapWithConcurrency(range(count), concurrency, async (i) => {
    const runA = async () => as.push(await a(i));
    const runB = async () => bs.push(await b(i));
    if (i % 2 === 0) await runA().then(runB);
    else await runB().then(runA);
  });
  const load = { before, after: loadavg()[0] };
  const wallMs = performance.now() - start;
  return { a: { samples: as, wallMs, load }, b: { samples: bs, wallMs, load } };
}

/**
 * The bare DDL of a tenant schema: CREATE SCHEMA and the statements of TENANT_MIGRATIONS in one
 * transaction, one statement per round trip as the migrator sends them, on a plain pg connection. The
 * schema is dropped right after (untimed), so later phases see the catalog the saga made.
 */
function bareDdl(pool: Pool, tag: string): Work {
  return async (i) => {
    const schema = quoteIdent(`bench_bare_${tag}_${i}`);
    const client = await pool.connect();
    try {
      const start = performance.now();
      await client.query('BEGIN');
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
        await client.query(`SET LOCAL search_path TO ${schema}`);
        for (const migration of TENANT_MIGRATIONS) {
          for (const statement of migration.statements) await client.query(statement);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      const ms = performance.now() - start;
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      return ms;
    } finally {
      client.release();
    }
  };
}

/**
 * CREATE SCHEMA + `migrateTenantSchema` in one TypeORM transaction: the bare DDL plus what the saga's
 * migrations step adds (the schema's version table and its row, the registry's migration_version,
 * TypeORM's query path). The ids have no registry row, so that UPDATE matches nothing.
 */
function migrator(ds: DataSource): Work {
  return async () => {
    const [{ id }] = (await ds.query(`SELECT platform.next_id()::text AS id`)) as [{ id: string }];
    const schema = tenantSchemaName(id);
    const { ms } = await timed(() =>
      ds.transaction(async (manager) => {
        await manager.query(`CREATE SCHEMA ${schema}`);
        await migrateTenantSchema(manager, { id, schema });
      }),
    );
    await ds.query(`DROP SCHEMA ${schema} CASCADE`);
    return ms;
  };
}

/** Creates one bare schema every `intervalMs` until stopped: the bare DDL under whatever load there is now. */
class BareDdlSidecar {
  private readonly samples: number[] = [];
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(create: Work, intervalMs: number) {
    this.loop = (async () => {
      for (let i = 0; !this.stopped; i++) {
        this.samples.push(await create(i));
        await sleep(intervalMs);
      }
    })();
    this.loop.catch(() => undefined); // reported by stop()
  }

  async stop(): Promise<number[]> {
    this.stopped = true;
    await this.loop;
    return this.samples;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The saga, instrumented

/** The saga's private methods the probe wraps. If they change, the probe says so instead of measuring nothing. */
interface SagaInternals {
  run(tenantId: string): Promise<string>;
  perform(
    manager: EntityManager,
    tenant: TenantEntity,
    step: ProvisioningStep,
    prepared?: unknown,
  ): Promise<void>;
  prepareInstanceActor(tenant: TenantEntity): Promise<unknown>;
}

/** Where a tenant's instance actor key came from. */
type KeySource = 'generated before the step' | 'taken from the pool' | 'generated in the step (pool empty)';

interface TenantTrace {
  /** Every ProvisioningSaga.run of this tenant (more than one when a job was retried). */
  runs: { ms: number; outcome: string; error?: string }[];
  /**
   * ProvisioningSaga.prepareInstanceActor, outside any transaction: a registry read and the pool's
   * count, plus RSA key generation when the pool is empty.
   */
  prepareMs: number;
  lockMs: number;
  steps: Partial<Record<ProvisioningStep, number>>;
  /** ActorKeyPool.take inside the instance_actor step (part of that step's time), when it was called. */
  takeMs?: number;
  keySource?: KeySource;
}

/**
 * Wraps the saga instance the worker uses (and its key pool), so every run is timed where it happens,
 * with what it spent before the instance_actor step (key generation or the pool check), on taking the
 * tenant row lock, on each step's own work and on taking a key from the pool. The rest of a run is
 * transaction begin/commit, waiting for a pooled connection, the step bookkeeping UPDATE and re-reads.
 */
class SagaProbe {
  readonly traces = new Map<string, TenantTrace>();
  /** The tenant whose step is running, so a key taken from the pool is put on the right trace. */
  private readonly stepOf = new AsyncLocalStorage<string>();

  static install(app: INestApplicationContext): SagaProbe {
    const probe = new SagaProbe();
    const saga = app.get(ProvisioningSaga) as unknown as SagaInternals;
    const registry = app.get(TenantRegistry);
    const pool = app.get(ActorKeyPool);
    for (const name of ['run', 'perform', 'prepareInstanceActor'] as const) {
      if (typeof saga[name] !== 'function')
        throw new Error(`ProvisioningSaga.${name} is gone: update the bench probe`);
    }
    const run = saga.run.bind(saga);
    const perform = saga.perform.bind(saga);
    const prepareInstanceActor = saga.prepareInstanceActor.bind(saga);
    const lockById = registry.lockById.bind(registry);
    const take = pool.take.bind(pool);

    saga.run = async (tenantId) => {
      const t0 = performance.now();
      let outcome = 'error';
      let error: string | undefined;
      try {
        outcome = await run(tenantId);
        return outcome;
      } catch (err) {
        error = (err as Error).message;
        throw err;
      } finally {
        probe.trace(tenantId).runs.push({ ms: performance.now() - t0, outcome, error });
      }
    };
    saga.perform = async (manager, tenant, step, prepared) => {
      const t0 = performance.now();
      try {
        return await probe.stepOf.run(tenant.id, () => perform(manager, tenant, step, prepared));
      } finally {
        const steps = probe.trace(tenant.id).steps;
        steps[step] = (steps[step] ?? 0) + performance.now() - t0;
      }
    };
    saga.prepareInstanceActor = async (tenant) => {
      const t0 = performance.now();
      const trace = probe.trace(tenant.id);
      try {
        const keys = await prepareInstanceActor(tenant);
        if (keys !== undefined) trace.keySource = 'generated before the step';
        return keys;
      } finally {
        trace.prepareMs += performance.now() - t0;
      }
    };
    pool.take = async (manager) => {
      const t0 = performance.now();
      const keys = await take(manager);
      const tenantId = probe.stepOf.getStore();
      if (tenantId !== undefined) {
        const trace = probe.trace(tenantId);
        trace.takeMs = (trace.takeMs ?? 0) + performance.now() - t0;
        trace.keySource = keys ? 'taken from the pool' : 'generated in the step (pool empty)';
      }
      return keys;
    };
    registry.lockById = async (manager, id) => {
      const t0 = performance.now();
      try {
        return await lockById(manager, id);
      } finally {
        probe.trace(id).lockMs += performance.now() - t0;
      }
    };
    return probe;
  }

  trace(tenantId: string): TenantTrace {
    let t = this.traces.get(tenantId);
    if (!t) this.traces.set(tenantId, (t = { runs: [], prepareMs: 0, lockMs: 0, steps: {} }));
    return t;
  }
}

interface PhaseResult {
  count: number;
  wallMs: number;
  load: { before: number; after: number };
  failed: { id: string; status: string }[];
  /** provision() as its caller sees it: registry rows committed, job queued. */
  apiMs: number[];
  /** activated_at - created_at: from the registering transaction to the activating one (queue wait included). */
  submitToActiveMs: number[];
  /** Total time inside ProvisioningSaga.run per tenant (all attempts). */
  sagaMs: number[];
  /** Time in prepareInstanceActor: key generation when the pool is empty, else only the pool check. */
  prepareMs: number[];
  lockMs: number[];
  stepMs: Record<ProvisioningStep, number[]>;
  /** ActorKeyPool.take, for the tenants that called it (included in step instance_actor). */
  takeMs: number[];
  /** How many tenants got their key from where. */
  keySources: Partial<Record<KeySource, number>>;
  /** Saga time not in prepareInstanceActor, row locks or step work: transactions, pool waits, bookkeeping. */
  otherMs: number[];
  /** Failed saga runs that the queue retried, with their errors. */
  retries: { tenantId: string; error: string }[];
  /** The bare DDL, one schema every 500 ms, while this phase ran. */
  sidecarMs: number[];
}

/**
 * Submits `count` tenants through TenantLifecycle.provision, keeping at most `window` of them
 * submitted and not yet settled (active or failed), and waits for all.
 */
async function provisionThroughSaga(
  app: INestApplicationContext,
  observer: Client,
  probe: SagaProbe,
  bare: Pool,
  opts: { count: number; offset: number; window: number; label: string; log: (line: string) => void },
): Promise<PhaseResult> {
  const lifecycle = app.get(TenantLifecycle);
  const benchContext = systemAuditContext('bench');
  const watcher = new SettlementWatcher(observer);
  const progress = progressReporter(opts.label, opts.count, opts.log);
  const sidecar = new BareDdlSidecar(bareDdl(bare, `side_${opts.offset}`), 500);
  const apiMs: number[] = [];
  const failed: { id: string; status: string }[] = [];
  let settled = 0;
  const before = loadavg()[0];
  const start = performance.now();
  let ids: string[];
  try {
    ids = await mapWithConcurrency(range(opts.count), opts.window, async (i) => {
      const n = opts.offset + i;
      const command = new ProvisionTenantCommand({
        slug: `bench-${n}`,
        domain: `t${n}.bench.example`,
        displayName: `Bench tenant ${n}`,
        adminEmail: `owner@t${n}.bench.example`,
      });
      const { ms, value: tenant } = await timed(() =>
        AuditContext.run(benchContext, () => lifecycle.provision(command)),
      );
      apiMs.push(ms);
      const status = await watcher.settled(tenant.id);
      if (status !== 'active') failed.push({ id: tenant.id, status });
      progress(++settled);
      return tenant.id;
    });
  } finally {
    watcher.stop();
  }
  const wallMs = performance.now() - start;
  const load = { before, after: loadavg()[0] };
  const sidecarMs = await sidecar.stop();

  const rows = (
    await observer.query(
      `SELECT id::text AS id, extract(epoch FROM activated_at - created_at) * 1000 AS ms
         FROM platform.tenants WHERE id = ANY($1::bigint[]) AND activated_at IS NOT NULL`,
      [ids],
    )
  ).rows as { id: string; ms: string }[];
  const traces = ids.map((id) => probe.trace(id));
  const sagaMs = traces.map((t) => t.runs.reduce((a, r) => a + r.ms, 0));
  const stepMs = Object.fromEntries(
    PROVISIONING_STEPS.map((s) => [s, traces.map((t) => t.steps[s] ?? 0)]),
  ) as Record<ProvisioningStep, number[]>;
  const stepTotal = (t: TenantTrace) => PROVISIONING_STEPS.reduce((a, s) => a + (t.steps[s] ?? 0), 0);
  const keySources: Partial<Record<KeySource, number>> = {};
  for (const t of traces) if (t.keySource) keySources[t.keySource] = (keySources[t.keySource] ?? 0) + 1;
  return {
    count: opts.count,
    wallMs,
    load,
    failed,
    apiMs,
    submitToActiveMs: rows.map((r) => Number(r.ms)),
    sagaMs,
    prepareMs: traces.map((t) => t.prepareMs),
    lockMs: traces.map((t) => t.lockMs),
    stepMs,
    takeMs: traces.flatMap((t) => (t.takeMs === undefined ? [] : [t.takeMs])),
    keySources,
    otherMs: traces.map((t, i) => sagaMs[i] - t.prepareMs - t.lockMs - stepTotal(t)),
    retries: ids.flatMap((id, i) =>
      traces[i].runs.filter((r) => r.error !== undefined).map((r) => ({ tenantId: id, error: r.error! })),
    ),
    sidecarMs,
  };
}

/** Polls the registry for tenants that left `provisioning`; fails loudly when nothing settles for two minutes. */
class SettlementWatcher {
  private readonly waiting = new Map<
    string,
    { resolve: (status: string) => void; reject: (err: Error) => void }
  >();
  private timer: NodeJS.Timeout | undefined;
  private lastProgress = performance.now();
  private polling = false;

  constructor(private readonly client: Client) {}

  settled(tenantId: string): Promise<string> {
    this.timer ??= setInterval(() => void this.poll(), 25);
    return new Promise((resolve, reject) => this.waiting.set(tenantId, { resolve, reject }));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling || this.waiting.size === 0) return;
    this.polling = true;
    try {
      const rows = (
        await this.client.query(
          `SELECT id::text AS id, status FROM platform.tenants WHERE id = ANY($1::bigint[]) AND status <> 'provisioning'`,
          [[...this.waiting.keys()]],
        )
      ).rows as { id: string; status: string }[];
      for (const row of rows) {
        this.waiting.get(row.id)?.resolve(row.status);
        this.waiting.delete(row.id);
      }
      if (rows.length) this.lastProgress = performance.now();
      else if (performance.now() - this.lastProgress > 120_000)
        throw new Error('No tenant settled for two minutes');
    } catch (err) {
      for (const w of this.waiting.values()) w.reject(err as Error);
      this.waiting.clear();
    } finally {
      this.polling = false;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Report

interface Measurements {
  machine: ScenarioReport['machine'];
  config: TownhallConfig;
  window: number;
  tenants: number;
  keygenSeq: Timings;
  keygenConc: Timings;
  pairedSeq: { a: Timings; b: Timings };
  pairedConc: { a: Timings; b: Timings };
  cold: PhaseResult;
  bareAfter: Timings;
  fill: PoolFill;
  warm: PhaseResult;
  /** Keys left in the pool after the warm phase (0 when every tenant took the key filled for it). */
  poolLeft: number;
}

/** The goal every provisioning change is judged by. */
const GOAL = { ratio: 2, tenants: 2000 };

function buildReport(m: Measurements): ScenarioReport {
  const c = m.config.provisioning.concurrency;
  const perSecond = (n: number, ms: number) => `${(n / (ms / 1000)).toFixed(1)}/s`;
  const keysPerSecond = (f: PoolFill) => round(f.keys / (f.wallMs / 1000), 1);
  const row = (measurement: string, samples: number[], extra: Partial<ResultRow> = {}): ResultRow => {
    const s = summarize(samples);
    return { measurement, n: s.n, p50: s.p50, p95: s.p95, max: s.max, ...extra };
  };
  const timingsRow = (measurement: string, t: Timings) =>
    row(measurement, t.samples, {
      rate: perSecond(t.samples.length, t.wallMs),
      note: `load ${t.load.before}-${t.load.after}`,
    });
  const fillRow = (measurement: string, f: PoolFill): ResultRow => ({
    measurement,
    n: f.keys,
    rate: `${keysPerSecond(f)} keys/s`,
    note: `${round(f.wallMs / 1000)} s; load ${f.load.before}-${f.load.after}`,
  });
  const phaseRows = (label: string, p: PhaseResult, prepare: string): ResultRow[] => [
    row(`${label}: saga run (ProvisioningSaga.run)`, p.sagaMs, {
      rate: perSecond(p.count, p.wallMs),
      note: `load ${p.load.before}-${p.load.after}; ${p.retries.length} retried, ${p.failed.length} failed`,
    }),
    row(`    ${prepare} (before step instance_actor)`, p.prepareMs),
    row('    tenant row lock (1 per run in one transaction)', p.lockMs),
    ...PROVISIONING_STEPS.flatMap((step) => [
      row(`    step "${step}" (its own work)`, p.stepMs[step]),
      ...(step === 'instance_actor' && p.takeMs.length
        ? [row('      of which ActorKeyPool.take', p.takeMs)]
        : []),
    ]),
    row('    rest: registry read, BEGIN/COMMIT, pool waits, bookkeeping', p.otherMs),
    row('    submit -> active (activated_at - created_at)', p.submitToActiveMs),
    row('    provision() call (register + enqueue)', p.apiMs),
    row('    bare DDL sidecar during the phase', p.sidecarMs, { note: 'one every 500 ms' }),
  ];

  const rows: ResultRow[] = [
    timingsRow('RSA-2048 key pair, one at a time', m.keygenSeq),
    timingsRow(`RSA-2048 key pair, ${c} at once`, m.keygenConc),
    timingsRow('bare DDL, one at a time', m.pairedSeq.a),
    timingsRow('  same DDL via migrateTenantSchema, paired', m.pairedSeq.b),
    timingsRow(`bare DDL, ${c} at once`, m.pairedConc.a),
    timingsRow(`  same DDL via migrateTenantSchema, paired`, m.pairedConc.b),
    ...phaseRows(`cold pool, ${m.tenants} tenants`, m.cold, 'key generation + pool check'),
    timingsRow(`bare DDL, one at a time, after ${m.tenants} tenants`, m.bareAfter),
    fillRow(`pool fill: ActorKeyPool.refill(${m.tenants}), one key at a time`, m.fill),
    ...phaseRows(`warm pool, ${m.tenants} tenants`, m.warm, 'pool check'),
  ];
  const p50 = (xs: number[]) => summarize(xs).p50;
  const p95 = (xs: number[]) => summarize(xs).p95;
  const ratio = (a: number, b: number) => round(a / b, 1);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  // The one-at-a-time bare DDL measured alone, before and after the cold phase: more samples over more time.
  const bareAlone = p50([...m.pairedSeq.a.samples, ...m.bareAfter.samples]);
  const bareConc = p50(m.pairedConc.a.samples);
  const cold = p50(m.cold.sagaMs);
  const warm = p50(m.warm.sagaMs);
  const coldSidecar = p50(m.cold.sidecarMs);
  const warmSidecar = p50(m.warm.sidecarMs);
  const ratios = (saga: number, sidecar: number) => ({
    overBareAlone: ratio(saga, bareAlone),
    overBareConcurrent: ratio(saga, bareConc),
    overSidecar: ratio(saga, sidecar),
  });
  const coldRatios = ratios(cold, coldSidecar);
  const warmRatios = ratios(warm, warmSidecar);
  const verdict = (r: number) =>
    r <= GOAL.ratio
      ? `MET (${r}x)`
      : `NOT met (${r}x, ${round(r / GOAL.ratio, 1)} times the ${GOAL.ratio}x allowed)`;
  const sources = (p: PhaseResult) =>
    Object.entries(p.keySources)
      .map(([source, n]) => `${n} ${source}`)
      .join(', ') || 'none recorded';
  const scale =
    m.tenants === GOAL.tenants
      ? `at ${GOAL.tenants} tenants`
      : `measured here at ${m.tenants} tenants (the goal is stated at ${GOAL.tenants}; run --tenants ${GOAL.tenants})`;

  const conclusions = [
    `bare DDL p50, one at a time: ${bareAlone} ms alone (before ${p50(m.pairedSeq.a.samples)}, after ${p50(m.bareAfter.samples)}); ` +
      `${c} at once: ${bareConc} ms; as a sidecar: ${coldSidecar} ms during the cold-pool phase, ${warmSidecar} ms during the warm-pool phase`,
    `saga, cold pool (keys generated inline): p50 ${cold} ms, p95 ${p95(m.cold.sagaMs)} ms = ${coldRatios.overBareAlone}x bare DDL alone, ` +
      `${coldRatios.overBareConcurrent}x bare DDL ${c} at once, ${coldRatios.overSidecar}x its sidecar; ` +
      `${perSecond(m.cold.count, m.cold.wallMs)} (${m.cold.count} tenants in ${round(m.cold.wallMs / 1000)} s)`,
    `  key generation is ${Math.round((sum(m.cold.prepareMs) / sum(m.cold.sagaMs)) * 100)}% of all cold-pool saga time ` +
      `(p50 ${p50(m.cold.prepareMs)} ms); RSA-2048 alone: p50 ${p50(m.keygenSeq.samples)} ms, ${c} at once ${p50(m.keygenConc.samples)} ms`,
    `pool fill: ActorKeyPool.refill(${m.tenants}) made ${m.fill.keys} keys in ${round(m.fill.wallMs / 1000)} s = ` +
      `${keysPerSecond(m.fill)} keys/s, one at a time: the CPU the warm pool moves off the provisioning path`,
    `saga, warm pool: p50 ${warm} ms, p95 ${p95(m.warm.sagaMs)} ms = ${warmRatios.overBareAlone}x bare DDL alone, ` +
      `${warmRatios.overBareConcurrent}x bare DDL ${c} at once, ${warmRatios.overSidecar}x its sidecar; ` +
      `${perSecond(m.warm.count, m.warm.wallMs)} (${m.warm.count} tenants in ${round(m.warm.wallMs / 1000)} s), ` +
      `${perSecond(m.warm.count, m.warm.wallMs + m.fill.wallMs)} counting the fill; keys: ${sources(m.warm)}; ${m.poolLeft} left in the pool`,
    `GOAL "saga p50 within ${GOAL.ratio}x of bare DDL at ${GOAL.tenants} tenants", ${scale}, warm-pool saga p50 ${warm} ms: ` +
      `${verdict(warmRatios.overBareAlone)} against bare DDL alone, one at a time (${bareAlone} ms); ` +
      `${verdict(warmRatios.overBareConcurrent)} against bare DDL at the workers' concurrency, ${c} at once (${bareConc} ms); ` +
      `${verdict(warmRatios.overSidecar)} against bare DDL under the same load, the sidecar (${warmSidecar} ms)`,
    `  (cold-pool saga: ${verdict(coldRatios.overBareAlone)} against bare DDL alone, ` +
      `${verdict(coldRatios.overBareConcurrent)} at ${c} at once)`,
    `migrateTenantSchema / bare DDL (paired): ${ratio(p50(m.pairedSeq.b.samples), p50(m.pairedSeq.a.samples))}x one at a time, ` +
      `${ratio(p50(m.pairedConc.b.samples), p50(m.pairedConc.a.samples))}x ${c} at once ` +
      `(worker concurrency ${c}, ${m.window} in flight)`,
  ];
  for (const [label, p] of [
    ['cold pool', m.cold],
    ['warm pool', m.warm],
  ] as const) {
    for (const r of p.retries) conclusions.push(`retried (${label}): tenant ${r.tenantId}: ${r.error}`);
    if (p.failed.length)
      conclusions.push(`FAILED (${label}): ${p.failed.map((f) => `${f.id} (${f.status})`).join(', ')}`);
  }

  const timings = (t: Timings) => ({ ...summarize(t.samples), wallMs: round(t.wallMs), load: t.load });
  const fill = (f: PoolFill) => ({ ...f, wallMs: round(f.wallMs), keysPerSecond: keysPerSecond(f) });
  const phase = (p: PhaseResult) => ({
    count: p.count,
    wallMs: round(p.wallMs),
    tenantsPerSecond: round(p.count / (p.wallMs / 1000), 2),
    load: p.load,
    retries: p.retries,
    failed: p.failed,
    keySources: p.keySources,
    apiMs: summarize(p.apiMs),
    submitToActiveMs: summarize(p.submitToActiveMs),
    sagaMs: summarize(p.sagaMs),
    prepareInstanceActorMs: summarize(p.prepareMs),
    lockMs: summarize(p.lockMs),
    stepMs: Object.fromEntries(PROVISIONING_STEPS.map((s) => [s, summarize(p.stepMs[s])])) as Record<
      ProvisioningStep,
      Summary
    >,
    keyPoolTakeMs: summarize(p.takeMs),
    otherMs: summarize(p.otherMs),
    sidecarBareDdlMs: summarize(p.sidecarMs),
    samples: {
      sagaMs: p.sagaMs.map((x) => round(x)),
      submitToActiveMs: p.submitToActiveMs.map((x) => round(x)),
    },
  });
  return {
    rows,
    conclusions,
    machine: m.machine,
    data: {
      settings: {
        workerConcurrency: c,
        inFlight: m.window,
        databasePoolSize: m.config.database.poolSize,
        keyPoolSizeConfig: m.config.provisioning.keyPoolSize,
      },
      keygen: { oneAtATime: timings(m.keygenSeq), concurrent: timings(m.keygenConc) },
      bareDdl: {
        oneAtATime: timings(m.pairedSeq.a),
        concurrent: timings(m.pairedConc.a),
        afterTenants: timings(m.bareAfter),
        aloneP50: bareAlone,
      },
      migrator: { oneAtATime: timings(m.pairedSeq.b), concurrent: timings(m.pairedConc.b) },
      sagaColdPool: phase(m.cold),
      poolFill: fill(m.fill),
      sagaWarmPool: { ...phase(m.warm), poolLeftAfter: m.poolLeft },
      ratios: {
        coldPool: {
          ...coldRatios,
          keygenShareOfSagaTime: round(sum(m.cold.prepareMs) / sum(m.cold.sagaMs), 3),
        },
        warmPool: warmRatios,
        goal: {
          statement: `saga p50 within ${GOAL.ratio}x of bare DDL at ${GOAL.tenants} tenants`,
          tenantsInThisRun: m.tenants,
          warmPoolMetAgainstBareAlone: warmRatios.overBareAlone <= GOAL.ratio,
          warmPoolMetAgainstBareConcurrent: warmRatios.overBareConcurrent <= GOAL.ratio,
          warmPoolMetAgainstSidecar: warmRatios.overSidecar <= GOAL.ratio,
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
