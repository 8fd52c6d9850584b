import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { AUDIT_CSV_COLUMNS } from '@townhall/compliance';
import { bundleAsCsv, inChunks, streamTo } from './audit-export-stream';

/** An endless source that counts what was pulled from it and whether it was told to stop. */
function endlessBundle() {
  const state = { pulled: 0, stopped: false };
  async function* lines(): AsyncGenerator<string> {
    try {
      for (;;) {
        state.pulled++;
        yield `{"type":"entry","n":${state.pulled},"pad":"${'x'.repeat(200)}"}\n`;
        await Promise.resolve();
      }
    } finally {
      state.stopped = true;
    }
  }
  return { state, lines: lines() };
}

async function* from(lines: string[]): AsyncGenerator<string> {
  for (const line of lines) yield line;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('streaming an export', () => {
  it('joins lines into bounded chunks without losing or reordering any', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`);
    const chunks = await collect(inChunks(from(lines), 100));
    expect(chunks.join('')).toBe(lines.join(''));
    expect(chunks.length).toBeGreaterThan(50);
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(100 + 10);
  });

  it('renders only the entries of a bundle as CSV, after the header', async () => {
    const entry = {
      seq: 4,
      time: '2025-01-15T09:30:00.000Z',
      tenant: '1001',
      actor: { type: 'regulator', id: '9' },
      action: 'audit.export',
      target: { type: 'tenant', id: '1001' },
      outcome: 'success',
      details: { format: 'csv' },
    };
    const bundle = [
      '{"type":"header","format":"townhall-audit-bundle/1"}\n',
      '{"type":"prefix","treeSize":3,"hashes":[]}\n',
      `{"type":"omitted","from":3,"to":4,"hashes":[]}\n${JSON.stringify({ type: 'entry', leafHash: 'x', entry })}\n`,
      '{"type":"checkpoint","treeSize":5}\n',
      '{"type":"trailer","entries":1}\n',
    ];
    const csv = await collect(bundleAsCsv(from(bundle)));
    expect(csv).toHaveLength(2);
    expect(csv[0]).toBe(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
    expect(csv[1]).toMatch(
      /^4,2025-01-15T09:30:00.000Z,1001,,regulator,9,,,audit.export,tenant,1001,success,,/,
    );
  });

  it('pulls from the source only as fast as the reader reads, and stops it when the reader leaves', async () => {
    const { state, lines } = endlessBundle();
    let received = 0;
    const slowReader = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, done) {
        received += chunk.length;
        if (received > 1_000_000) this.destroy();
        else setImmediate(done);
      },
    });
    await expect(streamTo(lines, slowReader)).resolves.toBe(false);
    expect(state.stopped).toBe(true);
    // About a megabyte of ~230-byte lines were read, plus what the buffers hold: nothing ran ahead.
    expect(state.pulled).toBeLessThan(1_000_000 / 230 + 2_000);
  });

  it('stops reading the database when an HTTP client disconnects mid-download', async () => {
    const { state, lines } = endlessBundle();
    let finished: Promise<boolean> | undefined;
    const server: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/x-ndjson');
      finished = streamTo(lines, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await new Promise<void>((resolve, reject) => {
        const req = get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            if (bytes > 200_000) {
              req.destroy();
              resolve();
            }
          });
        });
        req.on('error', (err: NodeJS.ErrnoException) =>
          err.code === 'ECONNRESET' ? resolve() : reject(err),
        );
      });
      await expect(finished).resolves.toBe(false);
      expect(state.stopped).toBe(true);
      // Closed for good, not paused: asked for more, the source gives nothing and pulls nothing.
      const pulledAtStop = state.pulled;
      await expect(lines.next()).resolves.toEqual({ done: true, value: undefined });
      expect(state.pulled).toBe(pulledAtStop);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('passes a failure of the source on, so the response is cut off rather than ended cleanly', async () => {
    async function* failing(): AsyncGenerator<string> {
      yield '{"type":"header"}\n';
      throw new Error('database gone');
    }
    const sink = new Writable({ write: (_c, _e, done) => done() });
    await expect(streamTo(failing(), sink)).rejects.toThrow('database gone');
    expect(sink.destroyed).toBe(true);
  });
});
