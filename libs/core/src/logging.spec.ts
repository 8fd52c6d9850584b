import { Writable } from 'node:stream';
import { QueryFailedError } from 'typeorm';
import { CoreError } from './errors';
import { createLogger, loggableUrl, RequestLogScope, serializeError, TownhallLogger } from './logging';

/** A logger writing JSON lines into an array, as production writes them to stdout. */
function capture(level = 'debug'): { logger: TownhallLogger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = new TownhallLogger(createLogger({ log: { level, pretty: false } }, sink));
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logging', () => {
  it('never logs the parameters of a failed query or the driver’s detail', () => {
    const driverError = Object.assign(
      new Error('duplicate key value violates unique constraint "tenants_slug_key"'),
      {
        code: '23505',
        severity: 'ERROR',
        constraint: 'tenants_slug_key',
        table: 'tenants',
        schema: 'platform',
        detail: 'Key (admin_email)=(press@bmi.example) already exists.',
      },
    );
    const err = new QueryFailedError(
      'INSERT INTO platform.tenants (slug, admin_email) VALUES ($1, $2)',
      ['bmi', 'press@bmi.example'],
      driverError,
    );
    const { logger, lines } = capture();
    logger.error({ err }, 'Unhandled error');
    const text = JSON.stringify(lines());
    expect(text).not.toContain('press@bmi.example');
    expect(lines()[0].err).toMatchObject({
      type: 'QueryFailedError',
      code: '23505',
      constraint: 'tenants_slug_key',
      table: 'tenants',
      query: 'INSERT INTO platform.tenants (slug, admin_email) VALUES ($1, $2)',
    });
  });

  it('copies only listed fields of an error, whatever else it carries', () => {
    const err = Object.assign(new Error('request failed'), {
      config: { headers: { Authorization: 'Bearer secret-token-1' } },
      options: { password: 'hunter2' },
      code: 'ECONNREFUSED',
    });
    const serialized = serializeError(err) as Record<string, unknown>;
    expect(Object.keys(serialized).sort()).toEqual(['code', 'message', 'stack', 'type']);
    const withCause = serializeError(new Error('outer', { cause: new CoreError('conflict', 'inner') }));
    expect(withCause).toMatchObject({
      cause: { type: 'CoreError', code: 'conflict', status: 409, detail: 'inner' },
    });
  });

  it('redacts secret fields of logged objects', () => {
    const { logger, lines } = capture();
    logger.warn(
      { headers: { authorization: 'Bearer secret-token-2', cookie: 'sid=secret-3' }, token: 'secret-4' },
      'x',
    );
    expect(JSON.stringify(lines())).not.toMatch(/secret-token-2|secret-3|secret-4/);
  });

  it('shows only query parameters that cannot carry credentials', () => {
    expect(loggableUrl('/api/v1/timelines/home?access_token=abc&limit=20&max_id=7')).toBe(
      '/api/v1/timelines/home?access_token=[redacted]&limit=20&max_id=7',
    );
    expect(loggableUrl('/oauth/authorize?client_id=x&code=secret&redirect_uri=y&password=p')).not.toMatch(
      /secret|=p(&|$)|=x|=y/,
    );
    expect(loggableUrl('/health/live')).toBe('/health/live');
  });

  it('accepts Nest’s call shapes and pino’s, and moves Nest’s start-up lines to debug', () => {
    const { logger, lines } = capture('info');
    logger.log('plain', 'Ctx');
    logger.warn({ tenantId: '1' }, 'with fields', 'Ctx');
    logger.error('failed', 'Error: x\n    at foo (bar.js:1:1)', 'Ctx');
    logger.log('Mapped {/x, GET} route', 'RouterExplorer');
    expect(lines()).toEqual([
      expect.objectContaining({ level: 30, msg: 'plain', context: 'Ctx' }),
      expect.objectContaining({ level: 40, msg: 'with fields', tenantId: '1', context: 'Ctx' }),
      expect.objectContaining({ level: 50, msg: 'failed', stack: expect.stringContaining('at foo') }),
    ]);
  });

  it('stamps lines written inside a request with its id', () => {
    const { logger, lines } = capture();
    RequestLogScope.run('req-abc12345', () => logger.log('inside'));
    logger.log('outside');
    expect(lines()[0]).toMatchObject({ msg: 'inside', requestId: 'req-abc12345' });
    expect(lines()[1]).not.toHaveProperty('requestId');
  });
});
