import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEntry } from './audit-entry';
import { describeAuditKey, type AuditKeyDescription } from './audit-keys';
import { verifyAuditBundle } from './audit-bundle-verifier';
import { AuditBundleWriter } from './audit-bundle-writer';
import { canonicalJson } from './canonical-json';
import { signCheckpoint } from './checkpoint';
import { CompactRange, leafHash } from './merkle';

export interface BenchVerifyOptions {
  /** A checkpoint every this many entries (and one at the end). Default 1000. */
  checkpointEvery?: number;
  /** Where the bundle is written while the benchmark runs. Default: the OS temp directory. */
  directory?: string;
  /** Worker threads for the verifier (see VerifyAuditBundleOptions.workers). Default 0. */
  workers?: number;
}

export interface BenchVerifyResult {
  entries: number;
  workers: number;
  checkpoints: number;
  bundleBytes: number;
  generateSeconds: number;
  verifySeconds: number;
  /** CPU time (user + system) the verification used: on a shared machine, wall time overstates it. */
  verifyCpuSeconds: number;
  /** Verified entries per second, reading the bundle from disk as a stream. */
  entriesPerSecond: number;
  /** Highest RSS sampled while verifying. */
  verifyPeakRssBytes: number;
  /** The process's peak RSS (getrusage), generation included. */
  processPeakRssBytes: number;
  ok: boolean;
}

const ORIGIN = 'bench.townhall.example/audit';
const ACTIONS = [
  'status.delete',
  'account.suspend',
  'report.resolve',
  'tenant.update',
  'domain_block.create',
];

function benchEntry(seq: number, startMs: number): AuditEntry {
  const tenant = seq % 10 === 0 ? null : String(100000000000000 + (seq % 37));
  return {
    seq,
    time: new Date(startMs + seq * 7).toISOString(),
    tenant,
    actor: { type: 'operator', id: String(200000000000000 + (seq % 11)), via: `token:${seq % 5}` },
    action: ACTIONS[seq % ACTIONS.length],
    target: { type: 'account', id: String(300000000000000 + seq) },
    outcome: seq % 50 === 0 ? 'denied' : 'success',
    requestId: `req-${(seq * 2654435761) % 4294967296}`,
    details: { reason: 'violation of rule 3', ruleId: seq % 9, statementOfReasons: seq % 3 === 0 },
  };
}

export interface BenchBundle {
  /** The keys JSON that verifies the bundle. */
  keys: { keys: AuditKeyDescription[] };
  checkpoints: number;
  bytes: number;
}

/**
 * Writes an n-entry bundle of synthetic entries to `path` with bounded memory: a checkpoint every
 * `checkpointEvery` entries and one at the end, all signed by one fresh Ed25519 key.
 */
export async function writeBenchBundle(
  path: string,
  n: number,
  checkpointEvery = 1000,
): Promise<BenchBundle> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const startMs = Date.UTC(2025, 0, 1);
  const key = describeAuditKey(publicKey, { validFrom: new Date(startMs - 1000).toISOString() });
  const out = createWriteStream(path);
  const writer = new AuditBundleWriter({
    origin: ORIGIN,
    from: 0,
    to: n,
    generatedAt: new Date(startMs + n * 7).toISOString(),
  });
  const tree = new CompactRange(0);
  let buffer = writer.header() + writer.prefix([]);
  let checkpoints = 0;
  const flush = async (): Promise<void> => {
    if (!out.write(buffer)) await once(out, 'drain');
    buffer = '';
  };
  for (let seq = 0; seq < n; seq++) {
    const entry = benchEntry(seq, startMs);
    const leaf = leafHash(canonicalJson(entry));
    buffer += writer.entry(entry, leaf);
    tree.appendLeaf(leaf);
    if (tree.end % checkpointEvery === 0 || tree.end === n) {
      const cp = signCheckpoint(
        { origin: ORIGIN, treeSize: tree.end, rootHash: tree.root(), time: entry.time },
        privateKey,
      );
      buffer += writer.checkpoint(cp);
      checkpoints++;
    }
    if (buffer.length > 1 << 20) await flush();
  }
  buffer += writer.trailer();
  await flush();
  out.end();
  await once(out, 'finish');
  return { keys: { keys: [key] }, checkpoints, bytes: (await stat(path)).size };
}

/**
 * Offline verification throughput: writes an n-entry bundle to a temporary file (see writeBenchBundle),
 * then verifies it from disk as a stream, which is what `townhall audit verify` does. The bench runner
 * wires this in as a scenario.
 */
export async function benchVerify(n: number, options: BenchVerifyOptions = {}): Promise<BenchVerifyResult> {
  const dir = await mkdtemp(join(options.directory ?? tmpdir(), 'townhall-bench-verify-'));
  const file = join(dir, 'bundle.ndjson');
  try {
    const generateStarted = process.hrtime.bigint();
    const bundle = await writeBenchBundle(file, n, options.checkpointEvery ?? 1000);
    const generateSeconds = Number(process.hrtime.bigint() - generateStarted) / 1e9;

    let verifyPeakRssBytes = process.memoryUsage.rss();
    const sampler = setInterval(() => {
      verifyPeakRssBytes = Math.max(verifyPeakRssBytes, process.memoryUsage.rss());
    }, 50);
    const cpuBefore = process.cpuUsage();
    const verifyStarted = process.hrtime.bigint();
    let ok: boolean;
    try {
      const result = await verifyAuditBundle(
        createReadStream(file, { highWaterMark: 1 << 20 }),
        bundle.keys,
        {
          workers: options.workers ?? 0,
        },
      );
      ok = result.ok;
    } finally {
      clearInterval(sampler);
    }
    const verifySeconds = Number(process.hrtime.bigint() - verifyStarted) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    verifyPeakRssBytes = Math.max(verifyPeakRssBytes, process.memoryUsage.rss());
    return {
      entries: n,
      workers: options.workers ?? 0,
      checkpoints: bundle.checkpoints,
      bundleBytes: bundle.bytes,
      generateSeconds,
      verifySeconds,
      verifyCpuSeconds: (cpu.user + cpu.system) / 1e6,
      entriesPerSecond: n / verifySeconds,
      verifyPeakRssBytes,
      processPeakRssBytes: process.resourceUsage().maxRSS * 1024,
      ok,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
