import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type AuditEntry, auditCsvHeader, auditCsvRow } from '@townhall/compliance';

/**
 * Streaming an export to the client. The store reads the log in keyset batches of 2,000 entries, each
 * one pooled query; memory stays bounded because the bundle is pulled only as fast as the client reads
 * (stream backpressure), so the next batch is read only when the previous one is sent. When the client
 * goes away, the pipeline destroys the source, which ends the store's iterator (`return()`): it stops
 * before the next batch.
 */

/** Small lines are joined into chunks of about this size: a million one-line writes cost far more. */
const CHUNK_BYTES = 64 * 1024;

export async function* inChunks(lines: AsyncIterable<string>, size = CHUNK_BYTES): AsyncGenerator<string> {
  let chunk = '';
  for await (const line of lines) {
    chunk += line;
    if (chunk.length >= size) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * The CSV view of a bundle: its entries, one record each, after a header. Everything that makes the
 * bundle evidence (hashes, checkpoints, proofs) is dropped — see docs/audit-format.md §7.
 */
export async function* bundleAsCsv(lines: AsyncIterable<string>): AsyncGenerator<string> {
  yield auditCsvHeader();
  // A piece of the bundle is one line or several (an `omitted` line and the entry after it), whole.
  for await (const piece of lines) {
    for (const line of piece.split('\n')) {
      if (line.length === 0) continue;
      const parsed = JSON.parse(line) as { type: string; entry?: AuditEntry };
      if (parsed.type === 'entry' && parsed.entry) yield auditCsvRow(parsed.entry);
    }
  }
}

/**
 * Writes `lines` to `out`. Resolves when everything was written; resolves `false` when the client
 * disconnected first (not an error of ours); rejects when the source failed.
 */
export async function streamTo(lines: AsyncIterable<string>, out: Writable): Promise<boolean> {
  const source = inChunks(lines);
  try {
    await pipeline(Readable.from(source), out);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return false;
    throw err;
  } finally {
    // The pipeline ends the source too, but without waiting; waiting here means that once this returns,
    // the store has stopped and reads no further batch.
    await source.return(undefined);
  }
}
