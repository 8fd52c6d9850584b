import { parentPort } from 'node:worker_threads';
import { digestBlock, digestBlockTransferables } from './audit-entry-digest';

/**
 * Worker thread of the parallel verifier: digests blocks of bundle lines (parse, validate,
 * hash) and sends the packed digests back. It decides nothing; the verifier does.
 */
export interface DigestRequest {
  id: number;
  bytes: Uint8Array;
}

parentPort?.postMessage({ ready: true });
parentPort?.on('message', ({ id, bytes }: DigestRequest) => {
  const block = digestBlock([bytes]);
  parentPort?.postMessage({ id, block }, digestBlockTransferables(block));
});
