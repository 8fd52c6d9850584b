import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADD_CHECKPOINT_PATH } from './add-checkpoint';
import { decodeUtf8Strict } from './signed-note';
import type { Witness, WitnessAnswer } from './witness';

/**
 * The witness over HTTP, on Node's own server (it needs no framework, database or Redis):
 *
 *   POST /add-checkpoint              C2SP tlog-witness submission
 *   GET  /<sha256(origin), hex>/checkpoint
 *                                     the last checkpoint cosigned for that log, with the log's
 *                                     signatures and the witness's cosignature (monitoring)
 *   GET  /                            who this witness is: its name and verifier key, and the logs it
 *                                     witnesses
 *
 * Bodies are capped (the largest valid request — 63 proof lines and a checkpoint with a few dozen
 * signatures — is far below the cap), and slow clients are cut off.
 */

export const MAX_WITNESS_REQUEST_BYTES = 64 * 1024;

export interface WitnessServer {
  server: Server;
  /** `http://host:port`, as bound. */
  url: string;
  close(): Promise<void>;
}

export function startWitnessServer(
  witness: Witness,
  about: string,
  listen: { host: string; port: number },
): Promise<WitnessServer> {
  const server = createServer((req, res) => {
    handle(witness, about, req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, contentType: 'text/plain', body: 'internal error\n' });
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${host}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

async function handle(
  witness: Witness,
  about: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path === `/${ADD_CHECKPOINT_PATH}`) {
    if (req.method !== 'POST') return send(res, text(405, 'use POST'), { Allow: 'POST' });
    const body = await readBody(req);
    if (body === null)
      return send(res, text(413, `a request has at most ${MAX_WITNESS_REQUEST_BYTES} bytes`), {
        Connection: 'close',
      });
    let decoded: string;
    try {
      decoded = decodeUtf8Strict(body);
    } catch {
      return send(res, text(400, 'the request is not valid UTF-8'));
    }
    return send(res, await witness.addCheckpoint(decoded));
  }
  const monitored = /^\/([0-9a-f]{64})\/checkpoint$/.exec(path);
  if (monitored || path === '/') {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(res, text(405, 'use GET'), { Allow: 'GET, HEAD' });
    return send(res, monitored ? await witness.latest(monitored[1]) : text(200, about.trimEnd()));
  }
  return send(res, text(404, 'not found'));
}

function text(status: number, message: string): WitnessAnswer {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${message}\n` };
}

function send(res: ServerResponse, answer: WitnessAnswer, headers: Record<string, string> = {}): void {
  res.writeHead(answer.status, {
    'Content-Type': answer.contentType,
    'Content-Length': Buffer.byteLength(answer.body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : answer.body);
}

/** The whole body, or null once it exceeds the cap (the rest is not read). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_WITNESS_REQUEST_BYTES) return resolve(null);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_WITNESS_REQUEST_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
