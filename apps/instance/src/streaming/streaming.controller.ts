import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { StreamHub } from './stream-hub';
import { StreamError, type StreamParams } from './stream-session';
import { sseOutput, streamingToken } from './streaming-server';

/** Mastodon sends a comment every 15 s so that proxies keep an idle event stream open. */
const SSE_HEARTBEAT_MS = 15_000;

/** The server-sent-event paths and the stream each one is. */
const SSE_STREAMS: Record<string, (only: boolean) => string> = {
  user: () => 'user',
  'user/notification': () => 'user:notification',
  public: (only) => (only ? 'public:media' : 'public'),
  'public/local': (only) => (only ? 'public:local:media' : 'public:local'),
  'public/remote': (only) => (only ? 'public:remote:media' : 'public:remote'),
  hashtag: () => 'hashtag',
  'hashtag/local': () => 'hashtag:local',
  list: () => 'list',
  direct: () => 'direct',
};

const TRUTHY = new Set(['1', 'true', 't', 'on', 'yes']);

/**
 * Mastodon's streaming API over HTTP: `/api/v1/streaming/health` and the server-sent-event streams
 * (one stream per request; the WebSocket at `/api/v1/streaming` is `StreamingServer`'s).
 */
@ApiExcludeController()
@Controller('api/v1/streaming')
export class StreamingController {
  constructor(private readonly hub: StreamHub) {}

  @Get('health')
  health(@Res() reply: FastifyReply): void {
    void reply.header('content-type', 'text/plain; charset=utf-8').send('OK');
  }

  @Get([...Object.keys(SSE_STREAMS)])
  async stream(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const path = new URL(req.url, 'http://localhost').pathname.slice('/api/v1/streaming/'.length);
    const query = new URL(req.url, 'http://localhost').searchParams;
    const name = SSE_STREAMS[path](TRUTHY.has((query.get('only_media') ?? '').toLowerCase()));
    let session;
    try {
      const viewer = await this.hub.viewer(req.tenant!, streamingToken(req.headers, query));
      session = await this.hub.open(viewer, sseOutput(reply.raw));
      await this.hub.subscribe(session, name, Object.fromEntries(query) as StreamParams);
    } catch (err) {
      if (session) this.hub.close(session);
      if (!(err instanceof StreamError)) throw err;
      void reply.code(err.status).send({ error: err.message });
      return;
    }
    const opened = session;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write(':)\n');
    const heartbeat = setInterval(() => res.write(':thump\n'), SSE_HEARTBEAT_MS);
    req.raw.on('close', () => {
      clearInterval(heartbeat);
      this.hub.close(opened);
    });
  }
}
