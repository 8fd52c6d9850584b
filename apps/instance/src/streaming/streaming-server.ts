import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { TenantDirectory } from '@townhall/tenancy';
import { StreamHub } from './stream-hub';
import { StreamError, type StreamOutput, type StreamParams, type StreamSession } from './stream-session';

/** The path of Mastodon's streaming WebSocket. */
export const STREAMING_PATH = '/api/v1/streaming';
/** The largest message a client may send (a subscribe message is well under 1 KiB). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
/** A connection that has this much unsent is too slow to follow and is dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Mastodon pings every 30 s and drops a connection that did not answer the previous ping. */
const PING_INTERVAL_MS = 30_000;

/** The token as Mastodon's streaming server reads it: Authorization, then `access_token`, then the subprotocol. */
export function streamingToken(
  headers: IncomingMessage['headers'],
  query: URLSearchParams,
): string | undefined {
  const bearer = /^bearer\s+(\S{1,512})\s*$/i.exec(headers.authorization ?? '')?.[1];
  if (bearer) return bearer;
  const fromQuery = query.get('access_token');
  if (fromQuery) return fromQuery.slice(0, 512);
  const protocol = headers['sec-websocket-protocol']?.split(',')[0]?.trim();
  return protocol ? protocol.slice(0, 512) : undefined;
}

type AliveSocket = WebSocket & { isAlive?: boolean };

/**
 * `GET /api/v1/streaming` as a WebSocket on the HTTP server the app already has: `ws` in `noServer`
 * mode on the server's `upgrade` event, since Fastify answers requests and never sees upgrades. The
 * Host picks the tenant (unknown 404, suspended 503) and the token is checked before the upgrade is
 * accepted; a refusal is an HTTP answer with Mastodon's `X-Error-Message`.
 */
@Injectable()
export class StreamingServer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StreamingServer.name);
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    perMessageDeflate: false,
  });
  private readonly frames = new LastFrame();
  private heartbeat: NodeJS.Timeout | undefined;
  private server: Server | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    void this.upgrade(req, socket, head);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly directory: TenantDirectory,
    private readonly hub: StreamHub,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer?.() as Server | undefined;
    if (!server?.on) return;
    this.server = server;
    server.on('upgrade', this.onUpgrade);
    this.heartbeat = setInterval(() => {
      for (const ws of this.wss.clients as Set<AliveSocket>) {
        if (ws.isAlive === false) {
          ws.terminate();
          continue;
        }
        ws.isAlive = false;
        ws.ping();
      }
    }, PING_INTERVAL_MS);
    this.heartbeat.unref();
  }

  /** Before the HTTP server closes, so that upgraded sockets do not keep it waiting. */
  beforeApplicationShutdown(): void {
    clearInterval(this.heartbeat);
    this.server?.off('upgrade', this.onUpgrade);
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname !== STREAMING_PATH && url.pathname !== `${STREAMING_PATH}/`)
        throw new StreamError(404, 'Not found');
      const tenant = await this.directory.atHost(req.headers.host);
      if (!tenant) throw new StreamError(404, 'No instance is hosted at this address.');
      const viewer = await this.hub.viewer(tenant, streamingToken(req.headers, url.searchParams));
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        // A protocol error (an oversized or malformed frame) is emitted here before ws closes the
        // connection with its code; without a listener it would end the process.
        ws.on('error', (err) => this.logger.debug({ err }, 'A streaming client broke the protocol'));
        this.connect(ws, viewer, url.searchParams).catch((err: unknown) => {
          this.logger.warn({ err }, 'Could not open a stream');
          ws.close(1011);
        });
      });
    } catch (err) {
      const status = err instanceof StreamError ? err.status : 500;
      const message = err instanceof StreamError ? err.message : 'Internal server error';
      if (!(err instanceof StreamError)) this.logger.error({ err }, 'Streaming upgrade failed');
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
          `Content-Length: 0\r\nX-Error-Message: ${message}\r\n\r\n`,
      );
    }
  }

  private async connect(
    ws: AliveSocket,
    viewer: Awaited<ReturnType<StreamHub['viewer']>>,
    query: URLSearchParams,
  ): Promise<void> {
    ws.isAlive = true;
    ws.on('pong', () => (ws.isAlive = true));
    const frames = this.frames;
    const output: StreamOutput = {
      send(stream, event, payload) {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          ws.terminate();
          return;
        }
        // A text frame from bytes encoded once for every connection of the same stream.
        ws.send(frames.frame(stream, event, payload), { binary: false });
      },
      close(reason) {
        if (reason === 'revoked') ws.close(1008, 'The access token is no longer valid');
        else if (reason === 'suspended') ws.close(1001, 'This instance has been suspended');
        else ws.terminate();
      },
    };
    // Messages may arrive while the session opens: they wait for it.
    const opening = this.hub.open(viewer, output);
    ws.on(
      'close',
      () =>
        void opening.then(
          (session) => this.hub.close(session),
          () => undefined,
        ),
    );
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        ws.close(1003, 'The streaming API does not support binary messages');
        return;
      }
      void opening.then((session) => this.onMessage(ws, session, data));
    });
    const session = await opening;
    if (ws.readyState !== WebSocket.OPEN) {
      this.hub.close(session);
      return;
    }
    const stream = query.get('stream');
    if (stream) this.subscribe(ws, session, stream, Object.fromEntries(query));
  }

  private onMessage(ws: WebSocket, session: StreamSession, data: RawData): void {
    let json: unknown;
    try {
      json = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
    } catch {
      return; // as Mastodon: a message that is not JSON is ignored
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return;
    const { type, stream, ...params } = json as { type?: unknown; stream?: unknown } & StreamParams;
    if (type === 'subscribe') this.subscribe(ws, session, stream, params);
    else if (type === 'unsubscribe') {
      this.hub.unsubscribe(session, stream, params).catch(() => {
        if (ws.readyState === WebSocket.OPEN)
          ws.send(JSON.stringify({ error: 'Error unsubscribing from channel' }));
      });
    }
  }

  private subscribe(ws: WebSocket, session: StreamSession, stream: unknown, params: StreamParams): void {
    this.hub.subscribe(session, stream, params).catch((err: unknown) => {
      const status = err instanceof StreamError ? err.status : 500;
      const error = err instanceof StreamError ? err.message : 'Internal server error';
      if (!(err instanceof StreamError)) this.logger.warn({ err }, 'Could not subscribe a stream');
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ error, status }));
    });
  }
}

/**
 * The message last sent, kept so that the same event to a thousand connections of the same stream is
 * serialised once (its payload, a JSON string, is escaped again in every copy otherwise).
 */
class LastFrame {
  private last: { stream: string[]; event: string; payload: string | undefined; bytes: Buffer } | undefined;

  frame(stream: string[], event: string, payload: string | undefined): Buffer {
    const last = this.last;
    if (
      last !== undefined &&
      last.payload === payload &&
      last.event === event &&
      last.stream.length === stream.length &&
      last.stream.every((s, i) => s === stream[i])
    )
      return last.bytes;
    const text = JSON.stringify(payload === undefined ? { stream, event } : { stream, event, payload });
    const bytes = Buffer.from(text, 'utf8');
    this.last = { stream, event, payload, bytes };
    return bytes;
  }
}

/** Writes Mastodon's server-sent events to a response (used by the streaming controller). */
export function sseOutput(res: ServerResponse): StreamOutput {
  return {
    send(_stream, event, payload) {
      res.write(`event: ${event}\ndata: ${payload ?? ''}\n\n`);
    },
    close() {
      res.end();
    },
  };
}
