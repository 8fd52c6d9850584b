import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DigestBlock } from './audit-entry-digest';

/**
 * Worker threads that digest blocks of bundle lines for the verifier (see audit-digest-worker.ts).
 * Workers start on demand and announce when they are ready; until then — and whenever all of them are
 * busy — the verifier digests blocks on its own thread, so a small bundle never waits for a thread to
 * boot and a large one uses every core.
 */
interface PoolWorker {
  worker: Worker;
  ready: boolean;
  inFlight: number;
  pending: Map<number, { resolve: (block: DigestBlock) => void; reject: (err: Error) => void }>;
}

/**
 * Blocks a worker may hold at once: enough to stay busy while the verifying thread digests a block of
 * its own (with 2 a worker sat idle a fifth of the time; 1,000,000 entries, two cores: 190-220k
 * entries/s with 2, 225-264k with 4).
 */
const PER_WORKER = 4;

export class DigestWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextRequest = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly script: string,
    private readonly size: number,
  ) {}

  /**
   * A pool of `size` workers (at most one per core), or null where threads cannot run the compiled
   * worker (from TypeScript sources under a test runner, say): the caller then digests on its own thread.
   */
  static create(size: number): DigestWorkerPool | null {
    const script = join(__dirname, 'audit-digest-worker.js');
    const count = Math.min(size, availableParallelism());
    if (count < 1 || !existsSync(script)) return null;
    return new DigestWorkerPool(script, count);
  }

  get started(): boolean {
    return this.workers.length > 0;
  }

  start(): void {
    if (this.started) return;
    for (let i = 0; i < this.size; i++) {
      const entry: PoolWorker = {
        worker: new Worker(this.script),
        ready: false,
        inFlight: 0,
        pending: new Map(),
      };
      entry.worker.on('message', (message: { ready?: true; id?: number; block?: DigestBlock }) => {
        if (message.ready) {
          entry.ready = true;
          return;
        }
        const request = entry.pending.get(message.id as number);
        if (!request) return;
        entry.pending.delete(message.id as number);
        entry.inFlight--;
        request.resolve(message.block as DigestBlock);
      });
      entry.worker.on('error', (err: Error) => this.fail(entry, err));
      entry.worker.on('exit', (code) => {
        if (entry.pending.size > 0) this.fail(entry, new Error(`a verifier worker exited (code ${code})`));
      });
      this.workers.push(entry);
    }
  }

  private fail(entry: PoolWorker, err: Error): void {
    this.failure ??= err;
    entry.ready = false;
    for (const request of entry.pending.values()) request.reject(err);
    entry.pending.clear();
    entry.inFlight = 0;
  }

  /** Whether at least one worker has booted and not failed. */
  ready(): boolean {
    return this.workers.some((entry) => entry.ready);
  }

  hasRoom(): boolean {
    return this.workers.some((entry) => entry.ready && entry.inFlight < PER_WORKER);
  }

  /**
   * Sends `bytes` (which must own its ArrayBuffer: it is transferred) to a ready worker with room, or
   * returns null when there is none.
   */
  tryDigest(bytes: Uint8Array): Promise<DigestBlock> | null {
    if (this.failure) return Promise.reject(this.failure);
    let chosen: PoolWorker | null = null;
    for (const entry of this.workers) {
      if (entry.ready && entry.inFlight < PER_WORKER && (!chosen || entry.inFlight < chosen.inFlight))
        chosen = entry;
    }
    if (!chosen) return null;
    const id = this.nextRequest++;
    const target = chosen;
    target.inFlight++;
    return new Promise<DigestBlock>((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
    this.workers.length = 0;
  }
}
