import { ArgumentsHost, BadRequestException, ServiceUnavailableException } from '@nestjs/common';
import { CoreError, defineErrors } from './errors';
import { ProblemDetailsFilter } from './problem-details.filter';

class SampleError extends defineErrors({
  suspended: { status: 503, title: 'Suspended' },
  broken: { status: 500, title: 'Internal Server Error' },
}) {}

/** A request and a reply as Fastify hands them to the filter, recording what is sent. */
function http(url = '/api/platform/v1/tenants?x=1') {
  const sent: { status?: number; type?: string; body?: string } = {};
  const reply = {
    sent: false,
    raw: { headersSent: false },
    status(code: number) {
      sent.status = code;
      return this;
    },
    header(name: string, value: string) {
      if (name === 'content-type') sent.type = value;
      return this;
    },
    send(body: string) {
      sent.body = body;
      return this;
    },
  };
  const req = { id: 'req-12345678', url };
  const host = { switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply }) } as ArgumentsHost;
  return { host, sent };
}

describe('ProblemDetailsFilter', () => {
  function filter() {
    const f = new ProblemDetailsFilter();
    const logged = {
      error: jest.spyOn(f['logger'], 'error').mockImplementation(() => undefined),
      debug: jest.spyOn(f['logger'], 'debug').mockImplementation(() => undefined),
    };
    return { f, logged };
  }

  it.each([
    ['a refusal of the platform’s own (4xx)', new CoreError('not_found', 'Nothing here.')],
    [
      'a 503 given on purpose (a suspended tenant)',
      new SampleError('suspended', 'Suspended by the operator.'),
    ],
    ['a validation error', new BadRequestException(['slug must be …'])],
    ['a 503 of the framework', new ServiceUnavailableException()],
    [
      'Fastify refusing a body',
      Object.assign(new Error('Request body is too large'), {
        statusCode: 413,
        code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      }),
    ],
  ])('logs %s at debug, without a stack', (_name, error) => {
    const { f, logged } = filter();
    const { host, sent } = http();
    f.catch(error, host);
    expect(logged.error).not.toHaveBeenCalled();
    expect(logged.debug).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(logged.debug.mock.calls)).not.toMatch(/\n\s+at /);
    expect(sent.type).toBe('application/problem+json');
    expect(JSON.parse(sent.body!)).toMatchObject({
      requestId: 'req-12345678',
      instance: '/api/platform/v1/tenants',
    });
  });

  it.each([
    ['an unknown error', new Error('cannot read properties of undefined')],
    ['a typed 500', new SampleError('broken', 'A fault')],
  ])('logs %s at error level with the error, and answers an opaque 500', (_name, error) => {
    const { f, logged } = filter();
    const { host, sent } = http();
    f.catch(error, host);
    expect(logged.error).toHaveBeenCalledWith({ err: error, requestId: 'req-12345678' }, 'Unhandled error');
    expect(sent.status).toBe(500);
    expect(sent.body).not.toContain('cannot read properties');
  });

  it('maps Fastify’s refusals of a request to their status, with their message', () => {
    const { f } = filter();
    const { host, sent } = http();
    f.catch(
      Object.assign(new Error('Unsupported Media Type: application/xml'), {
        statusCode: 415,
        code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      }),
      host,
    );
    expect(sent.status).toBe(415);
    expect(JSON.parse(sent.body!)).toMatchObject({
      status: 415,
      detail: 'Unsupported Media Type: application/xml',
    });
  });

  it('answers Mastodon’s error shape on a tenant’s paths, and OAuth’s where the error has an OAuth code', () => {
    const { f } = filter();
    const tenant = http('/api/v1/statuses/1');
    f.catch(new CoreError('not_found', 'Record not found'), tenant.host);
    expect(tenant.sent).toMatchObject({ status: 404, type: 'application/json; charset=utf-8' });
    expect(JSON.parse(tenant.sent.body!)).toEqual({ error: 'Record not found' });
    const oauth = http('/oauth/token');
    f.catch(
      Object.assign(new CoreError('bad_request', 'The code has expired.'), { oauthError: 'invalid_grant' }),
      oauth.host,
    );
    expect(JSON.parse(oauth.sent.body!)).toEqual({
      error: 'invalid_grant',
      error_description: 'The code has expired.',
    });
  });
});
