import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import {
  AuditContext,
  AuditContextInit,
  AuditRecorder,
  AuditRecordInput,
  AuditSequencer,
  benchEntryInput,
  DEFAULT_VERIFY_THREADS,
  DatabaseAuditStore,
  measureWork,
  verifyBundleFile,
  type UnsequencedAuditEntry,
} from '@townhall/compliance';
import { TownhallConfig } from '@townhall/core';
import { PlatformModule, preparePlatform } from '@townhall/platform';
import { benchConfig, DEFAULT_BENCH_DATABASE_URL, freshBenchDatabase } from '../support/bench-database';
import { machineInfo } from '../support/machine';
import type { ResultRow, Scenario, ScenarioContext, ScenarioReport } from '../support/scenario';
import { mapWithConcurrency, progressReporter, summarize, timed } from '../support/stats';

/**
 * The audit log on a fresh database, through the real store and sequencer:
 *
 * 1. appends by concurrent writers, each entry committed on its own without a transaction around it —
 *    what an entry that accompanies no change costs (`AuditStore.appendAlone`, which lets concurrent
 *    entries share a statement; the goal: ≥ 5,000/s with 8) — with the sequencer idle, so the number
 *    is the appenders' alone;
 * 2. the same in an explicit transaction per entry (BEGIN, INSERT, COMMIT), which is what an entry
 *    adds to a change that needs a transaction of its own anyway, plus the transaction itself;
 * 3. refusals recorded on their own with the client's IP address and user agent (AuditRecorder.recordAlone),
 *    as the operator API records them: the entry and its encrypted side-table rows in one statement;
 * 4. the sequencer draining that backlog: entries/s moved into the log with their Merkle nodes;
 * 5. appends again (on their own) with the sequencer running beside them, as a worker runs it;
 * 6. the log filled to the export size in large transactions, the sequencer keeping up;
 * 7. the whole log exported to a file as a stream, with the process's peak RSS;
 * 8. that file verified offline, as `townhall audit verify` does, with the platform shut down.
 */
export const auditScenario: Scenario = {
  name: 'audit',
  description:
    'Audit log: appends by concurrent writers, the sequencer, a streamed export of a large log (peak RSS) and its offline verification',
  options: [
    {
      name: 'appends',
      kind: 'int',
      default: 50_000,
      min: 1,
      max: 10_000_000,
      description: 'entries appended by the writers in each of phases 1, 2, 3 and 5',
    },
    { name: 'writers', kind: 'int', default: 8, min: 1, max: 64, description: 'concurrent writers' },
    {
      name: 'export-entries',
      kind: 'int',
      default: 1_000_000,
      min: 1,
      max: 10_000_000,
      description: 'entries in the log when it is exported and verified (at least four times --appends)',
    },
  ],
  run: runAuditBench,
};

/** Entries per transaction while filling the log for the export. */
const FILL_TRANSACTION = 5000;
const START = Date.UTC(2025, 0, 1);

@Module({})
class AuditBenchModule {
  static forRoot(config: TownhallConfig): DynamicModule {
    return { module: AuditBenchModule, imports: [PlatformModule.forRoot(config)] };
  }
}

interface Bench {
  app: INestApplicationContext;
  ds: DataSource;
  store: DatabaseAuditStore;
  recorder: AuditRecorder;
  sequencer: AuditSequencer;
  writers: number;
  log: (line: string) => void;
}

const entry = (i: number): UnsequencedAuditEntry => benchEntryInput(i, START);

/** An operator's request as the operator API sees it: the client's address and user agent are personal data. */
const REQUEST_CONTEXT: AuditContextInit = {
  actor: { type: 'operator', id: '200000000000001', via: 'token:1' },
  ip: '198.51.100.23',
  userAgent: 'townhall-bench/1.0',
};

/** A refused operator action, as AuditedTransactions records one after the rollback. */
function refusal(i: number): AuditRecordInput {
  return {
    action: 'tenant.suspend',
    target: { type: 'tenant', id: String(300000000000000 + i) },
    tenant: null,
    outcome: 'failure',
    details: { error: 'tenant_not_found' },
  };
}

async function runAuditBench(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options, log } = ctx;
  const appends = options.int('appends');
  const writers = options.int('writers');
  const exportEntries = Math.max(options.int('export-entries'), 4 * appends);
  const db = await freshBenchDatabase(process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL);
  const config = benchConfig(db, {
    DATABASE_POOL_SIZE: String(writers + 4),
    TOWNHALL_REDIS_PREFIX: `th_bench_audit_${process.pid}`,
    // The bench drives the sequencer itself, phase by phase.
    TOWNHALL_WORKERS: 'false',
    TOWNHALL_AUDIT_ORIGIN: 'bench.townhall.example/audit',
  });
  log(`database ${db.name}, ${writers} writers, ${appends} appends per phase, export of ${exportEntries}`);
  const dir = await mkdtemp(join(tmpdir(), 'townhall-bench-audit-'));
  let app: INestApplicationContext | undefined;
  let dropped = false;
  try {
    await preparePlatform(config, { migrate: true });
    const machine = await machineInfo(db.url);
    app = await NestFactory.createApplicationContext(AuditBenchModule.forRoot(config), {
      logger: ['error', 'warn'],
    });
    const bench: Bench = {
      app,
      ds: app.get(DataSource),
      store: app.get(DatabaseAuditStore),
      recorder: app.get(AuditRecorder),
      sequencer: app.get(AuditSequencer),
      writers,
      log,
    };

    log(`1. ${appends} appends, ${writers} writers, each on its own, sequencer idle`);
    const statementsBefore = bench.store.appendAloneStats();
    const alone = await appendConcurrently(bench, 0, appends, 'alone');
    const statementsAfter = bench.store.appendAloneStats();
    const perStatement =
      (statementsAfter.entries - statementsBefore.entries) /
      (statementsAfter.statements - statementsBefore.statements);
    log(`2. ${appends} appends, ${writers} writers, one transaction each, sequencer idle`);
    const inTransactions = await appendConcurrently(bench, appends, 2 * appends, 'transaction');
    log(`3. ${appends} refusals recorded on their own with the client's address, ${writers} writers`);
    const recorded = await appendConcurrently(bench, 2 * appends, 3 * appends, 'recorded');
    log(`4. the sequencer drains ${3 * appends} pending entries`);
    const drained = await timed(() => bench.sequencer.run());
    log(`5. ${appends} appends, ${writers} writers, with the sequencer running beside them`);
    const beside = await appendWhileSequencing(bench, 3 * appends, appends);
    log(`6. filling the log to ${exportEntries} entries, ${FILL_TRANSACTION} per transaction`);
    const fill = await fillLog(bench, 4 * appends, exportEntries);
    const checkpoint = await bench.store.checkpointNow();
    if (checkpoint?.treeSize !== exportEntries) {
      throw new Error(`The log has ${checkpoint?.treeSize} entries checkpointed, expected ${exportEntries}`);
    }

    const file = join(dir, 'export.ndjson');
    const rssBeforeExport = process.memoryUsage.rss();
    log(`7. exporting ${exportEntries} entries to ${file}`);
    const exported = await measureWork(() => exportToFile(bench.store, file));
    const bytes = (await stat(file)).size;
    log(`8. verifying the export offline, on one thread and with townhall audit verify's default threads`);
    const keys = { keys: await bench.store.keys() };
    // Offline means offline: the platform is shut down and its database dropped (unless kept) before
    // the verification, so neither competes for the cores (autovacuum follows a million inserts).
    await app.close();
    app = undefined;
    if (!options.flag('keep')) {
      await db.drop();
      dropped = true;
    }
    const verified = await verifyBundleFile(file, keys);
    if (!verified.value.ok) throw new Error(`The export does not verify: ${JSON.stringify(verified.value)}`);
    const threaded =
      DEFAULT_VERIFY_THREADS > 0 ? await verifyBundleFile(file, keys, DEFAULT_VERIFY_THREADS) : null;
    if (threaded && !threaded.value.ok) throw new Error('The export does not verify with worker threads');

    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
    const perSecond = (n: number, seconds: number) => `${Math.round(n / seconds)}/s`;
    const rows: ResultRow[] = [
      {
        measurement: `append, ${writers} writers, sequencer idle`,
        ...latency(alone.samples),
        rate: perSecond(appends, alone.seconds),
        note: `appendAlone: ${perStatement.toFixed(1)} entries per statement`,
      },
      {
        measurement: `  in a transaction each`,
        ...latency(inTransactions.samples),
        rate: perSecond(appends, inTransactions.seconds),
        note: 'BEGIN, INSERT, COMMIT per entry',
      },
      {
        measurement: `  refusals with personal data`,
        ...latency(recorded.samples),
        rate: perSecond(appends, recorded.seconds),
        note: 'recordAlone: IP and user agent in the side table',
      },
      {
        measurement: 'sequencer, draining the backlog',
        n: drained.value,
        rate: perSecond(drained.value, drained.ms / 1000),
      },
      {
        measurement: `append, ${writers} writers, sequencer running`,
        ...latency(beside.samples),
        rate: perSecond(appends, beside.seconds),
        note: `appendAlone; ${beside.sequenced} sequenced meanwhile`,
      },
      {
        measurement: `fill, ${FILL_TRANSACTION} per transaction`,
        n: fill.entries,
        rate: perSecond(fill.entries, fill.seconds),
        note: 'appended and sequenced',
      },
      {
        measurement: 'export to a file (stream)',
        n: exportEntries,
        rate: perSecond(exportEntries, exported.seconds),
        note: `peak RSS ${mb(exported.peakRssBytes)} (${mb(rssBeforeExport)} before), ${mb(bytes)} bundle`,
      },
      {
        measurement: 'offline verification of the export',
        n: exportEntries,
        rate: perSecond(exportEntries, verified.seconds),
        note: `one thread; peak RSS ${mb(verified.peakRssBytes)}`,
      },
      ...(threaded
        ? [
            {
              measurement: `  with ${DEFAULT_VERIFY_THREADS} worker thread(s)`,
              n: exportEntries,
              rate: perSecond(exportEntries, threaded.seconds),
              note: `townhall audit verify's default here; peak RSS ${mb(threaded.peakRssBytes)}`,
            },
          ]
        : []),
    ];
    const appendRate = appends / alone.seconds;
    const transactionRate = appends / inTransactions.seconds;
    const conclusions = [
      `Appends: ${Math.round(appendRate)}/s with ${writers} writers, each on its own (goal ≥ 5,000/s with 8): ${appendRate >= 5000 ? 'met' : 'not met'}; ${Math.round(transactionRate)}/s in a transaction each.`,
      `Export of ${exportEntries} entries: ${exported.seconds.toFixed(1)} s, peak RSS ${mb(exported.peakRssBytes)}; verification ${verified.seconds.toFixed(1)} s.`,
    ];
    return {
      rows,
      conclusions,
      machine,
      data: {
        appends: {
          alone: summarize(alone.samples),
          seconds: alone.seconds,
          entriesPerStatement: perStatement,
          inTransactions: { ...summarize(inTransactions.samples), seconds: inTransactions.seconds },
          recordedWithPersonalData: { ...summarize(recorded.samples), seconds: recorded.seconds },
        },
        sequencer: { entries: drained.value, seconds: drained.ms / 1000 },
        beside: { ...summarize(beside.samples), seconds: beside.seconds, sequenced: beside.sequenced },
        fill,
        export: {
          entries: exportEntries,
          bytes,
          seconds: exported.seconds,
          cpuSeconds: exported.cpuSeconds,
          peakRssBytes: exported.peakRssBytes,
          rssBeforeBytes: rssBeforeExport,
        },
        verify: {
          seconds: verified.seconds,
          cpuSeconds: verified.cpuSeconds,
          peakRssBytes: verified.peakRssBytes,
          threaded: threaded && {
            threads: DEFAULT_VERIFY_THREADS,
            seconds: threaded.seconds,
            cpuSeconds: threaded.cpuSeconds,
            peakRssBytes: threaded.peakRssBytes,
          },
        },
      },
    };
  } finally {
    await app?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    if (options.flag('keep')) log(`kept database ${db.name}`);
    else if (!dropped) await db.drop();
  }
}

function latency(samples: number[]): Pick<ResultRow, 'n' | 'p50' | 'p95' | 'max'> {
  const s = summarize(samples);
  return { n: s.n, p50: s.p50, p95: s.p95, max: s.max };
}

/**
 * Entries [from, to) appended by the writers, each committed on its own: without a transaction around
 * it (appendAlone), or in an explicit transaction; latencies in ms.
 */
async function appendConcurrently(
  bench: Bench,
  from: number,
  to: number,
  how: 'alone' | 'transaction' | 'recorded',
): Promise<{ samples: number[]; seconds: number }> {
  const progress = progressReporter('appends', to - from, bench.log);
  let done = 0;
  const started = performance.now();
  const samples = await mapWithConcurrency(
    Array.from({ length: to - from }, (_, i) => from + i),
    bench.writers,
    async (i) => {
      const { ms } = await timed(() =>
        how === 'alone'
          ? bench.store.appendAlone(entry(i))
          : how === 'recorded'
            ? AuditContext.run(REQUEST_CONTEXT, () => bench.recorder.recordAlone(refusal(i)))
            : bench.ds.transaction((m) => bench.store.append(m, entry(i))),
      );
      progress(++done);
      return ms;
    },
  );
  return { samples, seconds: (performance.now() - started) / 1000 };
}

/** The sequencer in a loop, as a worker runs it, until `stop` resolves; then until nothing is pending. */
async function sequenceUntil(bench: Bench, stop: Promise<unknown>): Promise<number> {
  let stopped = false;
  const markStopped = () => {
    stopped = true;
  };
  void stop.then(markStopped, markStopped);
  let sequenced = 0;
  while (!stopped) {
    const n = await bench.sequencer.run();
    sequenced += n;
    if (n === 0) await new Promise((r) => setTimeout(r, 20));
  }
  return sequenced + (await bench.sequencer.run());
}

async function appendWhileSequencing(bench: Bench, from: number, count: number) {
  const appending = appendConcurrently(bench, from, from + count, 'alone');
  const sequenced = await sequenceUntil(bench, appending);
  return { ...(await appending), sequenced };
}

/** Appends [from, to) in large transactions, several at once, while the sequencer keeps up. */
async function fillLog(
  bench: Bench,
  from: number,
  to: number,
): Promise<{ entries: number; seconds: number }> {
  const progress = progressReporter('fill', to - from, bench.log);
  let done = 0;
  const chunks = Array.from(
    { length: Math.ceil((to - from) / FILL_TRANSACTION) },
    (_, k) => from + k * FILL_TRANSACTION,
  );
  const started = performance.now();
  const appending = mapWithConcurrency(chunks, Math.min(bench.writers, 4), (start) =>
    bench.ds.transaction(async (m) => {
      const end = Math.min(start + FILL_TRANSACTION, to);
      for (let i = start; i < end; i++) await bench.store.append(m, entry(i));
      done += end - start;
      progress(done);
    }),
  );
  await sequenceUntil(bench, appending);
  await appending;
  return { entries: to - from, seconds: (performance.now() - started) / 1000 };
}

/** Streams the whole log's export into `path`, writing in chunks of about 1 MB. */
async function exportToFile(store: DatabaseAuditStore, path: string): Promise<void> {
  const out = createWriteStream(path);
  let buffer = '';
  for await (const line of store.exportBundle({})) {
    buffer += line;
    if (buffer.length >= 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}
