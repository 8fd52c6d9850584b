import { spawn } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_VERIFY_THREADS, writeBenchBundle } from '@townhall/compliance';
import { machineInfo } from '../support/machine';
import { repositoryRoot } from '../support/results';
import type { ResultRow, Scenario, ScenarioContext, ScenarioReport } from '../support/scenario';

/**
 * Offline verification as a regulator runs it: `townhall audit verify BUNDLE --key KEYS` in a process of
 * its own, on a synthetic bundle written once (a checkpoint every 1,000 entries, one Ed25519 key), run
 * several times per thread count because a shared two-core machine moves from run to run. The time is
 * the whole command, start-up included. No database is involved.
 */
export const verifyScenario: Scenario = {
  name: 'verify',
  description:
    'Offline verification: `townhall audit verify` on a large bundle, several runs per thread count',
  options: [
    {
      name: 'entries',
      kind: 'int',
      default: 1_000_000,
      min: 1,
      max: 10_000_000,
      description: 'entries in the bundle',
    },
    { name: 'runs', kind: 'int', default: 5, min: 1, max: 50, description: 'runs per thread count' },
  ],
  run: runVerifyBench,
};

const CLI = join(repositoryRoot(), 'bin', 'townhall.js');
const GOAL = 200_000;

interface Run {
  seconds: number;
  peakRssKiB: number;
}

async function runVerifyBench(ctx: ScenarioContext): Promise<ScenarioReport> {
  const { options, log } = ctx;
  const entries = options.int('entries');
  const runs = options.int('runs');
  const dir = await mkdtemp(join(tmpdir(), 'townhall-bench-verify-'));
  try {
    const bundle = join(dir, 'export.ndjson');
    const keys = join(dir, 'keys.json');
    log(`writing a bundle of ${entries} entries`);
    const written = await writeBenchBundle(bundle, entries);
    await writeFile(keys, JSON.stringify(written.keys));
    const machine = await machineInfo();

    const threadCounts = [...new Set([0, DEFAULT_VERIFY_THREADS])];
    const results = new Map<number, Run[]>();
    // Interleaved, so a slow spell of the machine falls on every thread count alike.
    for (let r = 1; r <= runs; r++) {
      for (const threads of threadCounts) {
        const run = await verifyOnce(bundle, keys, threads);
        log(`run ${r}/${runs}, ${threads} worker thread(s): ${Math.round(entries / run.seconds)} entries/s`);
        results.set(threads, [...(results.get(threads) ?? []), run]);
      }
    }

    const rows: ResultRow[] = [];
    const data: Record<string, unknown> = { entries, bundleBytes: written.bytes, runs: {} };
    const conclusions: string[] = [];
    for (const threads of threadCounts) {
      const measured = results.get(threads) as Run[];
      const rates = measured.map((run) => entries / run.seconds).sort((a, b) => a - b);
      const median = rates[Math.floor((rates.length - 1) / 2)];
      const mib = Math.max(...measured.map((run) => run.peakRssKiB)) / 1024;
      rows.push({
        measurement: `townhall audit verify --threads ${threads}${threads === DEFAULT_VERIFY_THREADS ? ' (default)' : ''}`,
        n: entries,
        rate: `${Math.round(median)}/s`,
        note: `median of ${runs}; min ${Math.round(rates[0])}/s, max ${Math.round(rates[rates.length - 1])}/s; peak RSS ${mib.toFixed(0)} MB`,
      });
      (data.runs as Record<number, Run[]>)[threads] = measured;
      if (threads === DEFAULT_VERIFY_THREADS) {
        const met = rates.filter((rate) => rate >= GOAL).length;
        conclusions.push(
          `Default (${threads} worker thread(s)): median ${Math.round(median)} entries/s, start-up included; ${met} of ${runs} runs at or above the goal of ${GOAL.toLocaleString('en')}/s.`,
        );
      }
    }
    conclusions.push(`Bundle: ${entries} entries, ${(written.bytes / 2 ** 20).toFixed(0)} MB.`);
    return { rows, conclusions, machine, data };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One `townhall audit verify` in a child process: its wall time and peak RSS (from its resource usage). */
function verifyOnce(bundle: string, keys: string, threads: number): Promise<Run> {
  return new Promise<Run>((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(
      process.execPath,
      [
        '-e',
        // Reports the command's own peak RSS once it has finished (exit code preserved).
        `process.on('exit', () => process.stderr.write('\\nmaxrss ' + process.resourceUsage().maxRSS + '\\n')); require(${JSON.stringify(CLI)})`,
        CLI,
        'audit',
        'verify',
        bundle,
        '--key',
        keys,
        '--threads',
        String(threads),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0 || !stdout.startsWith('OK ')) {
        reject(new Error(`townhall audit verify exited ${code}: ${stdout}${stderr}`));
        return;
      }
      const rss = /maxrss (\d+)/.exec(stderr);
      resolve({ seconds, peakRssKiB: rss ? Number(rss[1]) : NaN });
    });
  });
}
