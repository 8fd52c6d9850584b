import { ADD_CHECKPOINT_PATH } from '../../witness/add-checkpoint';
import { decodeUtf8Strict } from '../../witness/signed-note';

/** A witness's answer to add-checkpoint, as received. */
export interface WitnessResponse {
  status: number;
  contentType: string;
  body: string;
}

/** Cosignature lines, a size or an error message: nothing a witness sends needs more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs an add-checkpoint request (C2SP tlog-witness) to `<url>/add-checkpoint`. Witness URLs are the
 * operator's configuration (TOWNHALL_AUDIT_WITNESSES), like the database's address, so this does not go
 * through the federation's safe fetcher; it follows no redirects, reads at most 64 KiB of answer and
 * gives up after `timeoutMs`. Throws on a network failure, a timeout or an abort.
 */
export async function postAddCheckpoint(
  url: string,
  body: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<WitnessResponse> {
  const response = await fetch(`${url}/${ADD_CHECKPOINT_PATH}`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', Accept: 'text/plain, text/x.tlog.size' },
    redirect: 'manual',
    signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
  });
  const bytes = await readCapped(response);
  let text: string;
  try {
    text = decodeUtf8Strict(bytes);
  } catch {
    text = '(an answer that is not UTF-8)';
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: text };
}

async function readCapped(response: Response): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new Error(`the witness answered more than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
