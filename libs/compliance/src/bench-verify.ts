import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AuditEntry } from './audit-entry';
import type { UnsequencedAuditEntry } from './audit-ports';
import { describeAuditKey, type AuditKeyDescription, type AuditKeysInput } from './audit-keys';
import { verifyAuditBundle } from './audit-bundle-verifier';
import type { AuditVerificationResult } from './audit-verification';
import { AuditBundleWriter } from './audit-bundle-writer';
import { canonicalJson } from './canonical-json';
import { signCheckpoint } from './checkpoint';
import { CompactRange, leafHash } from './merkle';

const ORIGIN = 'bench.townhall.example/audit';
const ACTIONS = [
  'status.delete',
  'account.suspend',
  'report.resolve',
  'tenant.update',
  'domain_block.create',
];

/**
 * The synthetic entry at position `seq` of a log that starts at `startMs`, as an appender hands it over
 * (without its position): tenants, actions and details vary.
 */
export function benchEntryInput(seq: number, startMs: number): UnsequencedAuditEntry {
  const tenant = seq % 10 === 0 ? null : String(100000000000000 + (seq % 37));
  return {
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

function benchEntry(seq: number, startMs: number): AuditEntry {
  return { seq, ...benchEntryInput(seq, startMs) };
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

/** What measuring a piece of work found: its result, wall and CPU time, and the highest RSS sampled. */
export interface Measured<T> {
  value: T;
  seconds: number;
  /** CPU time (user + system) of the process: on a shared machine, wall time overstates the cost. */
  cpuSeconds: number;
  peakRssBytes: number;
}

/** Runs `work` while sampling the process's RSS every 50 ms. */
export async function measureWork<T>(work: () => Promise<T>): Promise<Measured<T>> {
  let peakRssBytes = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
  }, 50);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  let value: T;
  try {
    value = await work();
  } finally {
    clearInterval(sampler);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss());
  return { value, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, peakRssBytes };
}

/** Verifies a bundle file from disk as a stream, as `townhall audit verify` does, measuring it. */
export function verifyBundleFile(
  path: string,
  keys: AuditKeysInput,
  workers = 0,
): Promise<Measured<AuditVerificationResult>> {
  return measureWork(() =>
    verifyAuditBundle(createReadStream(path, { highWaterMark: 1 << 20 }), keys, { workers }),
  );
}
