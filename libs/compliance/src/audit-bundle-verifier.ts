import { digestBlock, type DigestBlock } from './audit-entry-digest';
import { AuditKeyring, type AuditKeysInput } from './audit-keys';
import type { AuditCheckpoint } from './checkpoint';
import { DigestWorkerPool } from './digest-worker-pool';
import { BundleVerification, type AuditVerificationResult } from './audit-verification';

/**
 * The offline verifier's entry point: reads a bundle as a stream, cuts it into blocks of lines, has the
 * lines digested (parsed and hashed — in worker threads when the bundle is large) and feeds
 * the digests in order to a BundleVerification, which decides. Memory stays bounded: O(log n) state
 * plus a few blocks in flight.
 */

export interface VerifyAuditBundleOptions {
  /** An earlier checkpoint the verifier already trusts; the bundle must be consistent with it. */
  since?: AuditCheckpoint | null;
  /**
   * Worker threads that parse and hash the lines of a large streamed bundle in parallel
   * (decisions stay on the calling thread, so results are identical). Default 0: worth it only with
   * cores to spare — on a busy two-core machine the threads compete with each other.
   */
  workers?: number;
}

/** The bundle's text, or its bytes, or a stream of chunks (which the stream must not reuse once yielded). */
export type AuditBundleSource =
  string | Uint8Array | Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>;

/** Blocks handed to a digester are cut at a line end once at least this many bytes are buffered. */
const BLOCK_BYTES = 128 * 1024;
/**
 * Blocks digested or being digested but not yet consumed, at most: 1.5 MB of input in all. Smaller blocks
 * and a deeper queue keep a worker busy while this thread decides (1,000,000 entries, one worker, two
 * cores: about 184,000 entries/s against 161,000 with six blocks of 256 KB).
 */
const MAX_PENDING_BLOCKS = 12;
/** Workers are only started once a bundle proves larger than this: a thread costs more than it saves below. */
const WORKERS_AFTER_BYTES = 1024 * 1024;

/**
 * Verifies a bundle (its text, or a stream of chunks such as `fs.createReadStream(path)`) against the
 * trusted keys. Throws only for unusable `keys` (ComplianceError `invalid_key`) or a failing stream;
 * every problem of the bundle itself is a `{ok: false}` result.
 */
export async function verifyAuditBundle(
  bundle: AuditBundleSource,
  keys: AuditKeysInput,
  options: VerifyAuditBundleOptions = {},
): Promise<AuditVerificationResult> {
  const verification = new BundleVerification(AuditKeyring.from(keys), options.since ?? null);
  const whole = typeof bundle === 'string' || bundle instanceof Uint8Array;
  const pool = whole || !options.workers ? null : DigestWorkerPool.create(options.workers);
  try {
    await digestInOrder(whole ? [bundle] : bundle, verification, pool);
  } finally {
    await pool?.close();
  }
  return verification.finish();
}

/**
 * Cuts the input into blocks of whole lines, has each digested (by a worker when one is free, else on
 * this thread) and feeds the digests to the verification strictly in input order, holding at most a
 * few blocks at a time: memory stays bounded however long the bundle is.
 */
async function digestInOrder(
  source: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  verification: BundleVerification,
  pool: DigestWorkerPool | null,
): Promise<void> {
  const blocks = new BlockCutter();
  const done = new Map<number, DigestBlock>();
  let submitted = 0;
  let consumed = 0;
  let inFlight = 0;
  let stopped = false;
  let error: unknown = null;
  let wake: (() => void) | null = null;
  let bytesSeen = 0;

  const consume = (): void => {
    while (!stopped && done.has(consumed)) {
      const block = done.get(consumed) as DigestBlock;
      done.delete(consumed);
      consumed++;
      if (!verification.feedBlock(block)) stopped = true;
    }
  };
  const waitForResults = (): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = () => {
        wake = null;
        resolve();
      };
    });
  const submit = async (parts: Uint8Array[]): Promise<void> => {
    const id = submitted++;
    // A block goes to a worker with room; when all are busy (or none has booted yet) this thread digests
    // it itself, then lets the event loop deliver results so the workers are topped up without delay.
    // Bounded memory: never more than a few blocks between reading and deciding.
    while (!stopped && inFlight + done.size >= MAX_PENDING_BLOCKS) await waitForResults();
    if (stopped) return;
    const remote = pool?.ready() && pool.hasRoom() ? pool.tryDigest(concat(parts)) : null;
    if (!remote) {
      done.set(id, digestBlock(parts));
      consume();
      if (pool?.started) await new Promise<void>((resolve) => setImmediate(resolve));
      return;
    }
    inFlight++;
    remote.then(
      (block) => {
        inFlight--;
        done.set(id, block);
        consume();
        wake?.();
      },
      (err: unknown) => {
        inFlight--;
        error ??= err;
        stopped = true;
        wake?.();
      },
    );
  };

  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    bytesSeen += bytes.byteLength;
    if (pool && !pool.started && bytesSeen > WORKERS_AFTER_BYTES) pool.start();
    for (const block of blocks.push(bytes)) {
      await submit(block);
      if (stopped) break;
    }
    if (stopped) break;
  }
  if (!stopped) {
    const last = blocks.end();
    if (last) await submit(last);
  }
  while (inFlight > 0) await waitForResults();
  if (error) throw error;
}

/**
 * Cuts the byte stream into blocks of whole lines: lists of views into the chunks as they came, each
 * ending with "\n", together at least BLOCK_BYTES long. Only a line that straddles two chunks is copied.
 */
class BlockCutter {
  private partial: Uint8Array[] = [];
  private lines: Uint8Array[] = [];
  private size = 0;

  push(bytes: Uint8Array): Uint8Array[][] {
    let start = 0;
    if (this.partial.length > 0) {
      const newline = bytes.indexOf(10);
      if (newline === -1) {
        this.partial.push(new Uint8Array(bytes));
        return [];
      }
      this.add(concat([...this.partial, bytes.subarray(0, newline + 1)]));
      this.partial = [];
      start = newline + 1;
    }
    const last = bytes.lastIndexOf(10);
    if (last >= start) this.add(bytes.subarray(start, last + 1));
    if (last + 1 < bytes.length && last + 1 >= start)
      this.partial.push(new Uint8Array(bytes.subarray(last + 1)));
    if (this.size < BLOCK_BYTES) return [];
    return [this.take()];
  }

  /** Whatever is left, the last line possibly without "\n"; null when nothing is. */
  end(): Uint8Array[] | null {
    if (this.partial.length > 0) this.add(concat(this.partial));
    this.partial = [];
    return this.size > 0 ? this.take() : null;
  }

  private add(view: Uint8Array): void {
    this.lines.push(view);
    this.size += view.byteLength;
  }

  private take(): Uint8Array[] {
    const block = this.lines;
    this.lines = [];
    this.size = 0;
    return block;
  }
}

/** The parts copied into one fresh buffer that owns its memory (so it can be transferred to a worker). */
function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.byteLength;
  }
  return all;
}
