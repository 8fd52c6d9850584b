import { Regulator } from '@townhall/auth';
import { AuditRecorder, AuditRecordInput, AuditStore, ComplianceError } from '@townhall/compliance';
import type { TenantRegistry } from '@townhall/tenancy';
import { RegulatorAuditExports, RegulatorExportQuery } from './regulator-audit-exports';

/** The order things happened in: what the store was asked for, what was recorded, what was committed. */
type Event = string;

function fakes(options: { failRequest?: boolean; failRecording?: boolean } = {}) {
  const events: Event[] = [];
  const recorded: AuditRecordInput[] = [];
  const store = {
    exportBundle(): AsyncIterable<string> {
      return {
        [Symbol.asyncIterator]() {
          let n = 0;
          return {
            next() {
              if (n === 0 && options.failRequest) {
                return Promise.reject(new ComplianceError('invalid_bundle_request', 'no tree of size 9'));
              }
              events.push(`read ${n}`);
              n += 1;
              if (n === 1)
                return Promise.resolve({
                  done: false,
                  value: '{"type":"header","range":{"from":0,"to":3}}\n',
                });
              return Promise.resolve(
                n <= 3
                  ? { done: false, value: `{"type":"entry","n":${n}}\n` }
                  : { done: true, value: undefined },
              );
            },
            return() {
              events.push('closed');
              return Promise.resolve({ done: true, value: undefined });
            },
          };
        },
      };
    },
  } as unknown as AuditStore;
  const recorder = {
    /** Committed on its own by the time it resolves. */
    recordAlone(input: AuditRecordInput) {
      if (options.failRecording) return Promise.reject(new Error('database gone'));
      recorded.push(input);
      events.push(`record ${input.outcome}`, 'commit');
      return Promise.resolve();
    },
  } as unknown as AuditRecorder;
  /** Tenants 1 and 2 are registered. */
  const tenants = {
    findById: (id: string) => Promise.resolve(['1', '2'].includes(id) ? { id } : null),
  } as unknown as TenantRegistry;
  return { events, recorded, exports: new RegulatorAuditExports(store, recorder, tenants) };
}

const regulator = (scope: Regulator['scope']) =>
  new Regulator('9', 'R', scope, 'abcd', new Date(Date.now() + 86_400_000), null, new Date(), null, null);

const request = (overrides: Partial<RegulatorExportQuery> = {}): RegulatorExportQuery => ({
  tenant: '1',
  from: null,
  to: null,
  actions: null,
  since: null,
  format: 'ndjson',
  ...overrides,
});

async function readAll(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

describe('a regulator’s export', () => {
  it('is recorded and committed after the header is read and before any entry is', async () => {
    const { events, recorded, exports } = fakes();
    const opened = await exports.open(
      regulator({ all: false, tenantIds: ['1'] }),
      request({ actions: ['a.b'] }),
    );
    expect(opened.range).toEqual({ from: 0, to: 3 });
    expect(events).toEqual(['read 0', 'record success', 'commit']);
    expect(await readAll(opened.lines)).toHaveLength(3);
    expect(recorded[0]).toMatchObject({
      action: 'audit.export',
      outcome: 'success',
      tenant: '1',
      target: { type: 'tenant', id: '1' },
      details: {
        format: 'ndjson',
        range: { from: 0, to: 3 },
        filters: { tenant: '1', actions: ['a.b'], from: null, to: null, since: null },
      },
    });
  });

  it('refuses a tenant outside the scope, recording the denial in a transaction of its own', async () => {
    const { events, recorded, exports } = fakes();
    await expect(
      exports.open(regulator({ all: false, tenantIds: ['1'] }), request({ tenant: '2' })),
    ).rejects.toMatchObject({
      code: 'tenant_out_of_scope',
    });
    await expect(
      exports.open(regulator({ all: false, tenantIds: ['1'] }), request({ tenant: null })),
    ).rejects.toMatchObject({
      code: 'tenant_out_of_scope',
    });
    expect(events).toEqual(['record denied', 'commit', 'record denied', 'commit']);
    expect(recorded.map((r) => [r.tenant, r.target])).toEqual([
      ['2', { type: 'tenant', id: '2' }],
      [null, { type: 'platform', id: 'platform' }],
    ]);
  });

  it('checks the scope before the range: an out-of-scope request with a bad range is a recorded 403', async () => {
    const { events, recorded, exports } = fakes();
    await expect(
      exports.open(regulator({ all: false, tenantIds: ['1'] }), request({ tenant: '2', from: 5, to: 2 })),
    ).rejects.toMatchObject({ code: 'tenant_out_of_scope' });
    expect(events).toEqual(['record denied', 'commit']);
    expect(recorded[0]).toMatchObject({ outcome: 'denied', details: { filters: { from: 5, to: 2 } } });
  });

  it('records an unregistered tenant as the target only, with no tenant of the entry', async () => {
    const { recorded, exports } = fakes();
    await exports.open(regulator({ all: true }), request({ tenant: '3' }));
    await expect(
      exports.open(regulator({ all: false, tenantIds: ['1'] }), request({ tenant: '4' })),
    ).rejects.toMatchObject({ code: 'tenant_out_of_scope' });
    expect(recorded.map((r) => [r.outcome, r.tenant, r.target])).toEqual([
      ['success', null, { type: 'tenant', id: '3' }],
      ['denied', null, { type: 'tenant', id: '4' }],
    ]);
  });

  it('records nothing for a request the log cannot serve', async () => {
    const { events, exports } = fakes({ failRequest: true });
    await expect(exports.open(regulator({ all: true }), request())).rejects.toMatchObject({
      code: 'invalid_bundle_request',
    });
    await expect(exports.open(regulator({ all: true }), request({ from: 5, to: 2 }))).rejects.toMatchObject({
      code: 'invalid_bundle_request',
    });
    expect(events).toEqual([]);
  });

  it('sends nothing and releases the store when the export cannot be recorded', async () => {
    const { events, exports } = fakes({ failRecording: true });
    await expect(exports.open(regulator({ all: true }), request())).rejects.toThrow('database gone');
    expect(events).toEqual(['read 0', 'closed']);
  });

  it('releases the store when the download is abandoned before the first line is read', async () => {
    const { events, exports } = fakes();
    const opened = await exports.open(regulator({ all: true }), request({ tenant: null }));
    await opened.lines.return!();
    expect(events).toEqual(['read 0', 'record success', 'commit', 'closed']);
  });
});
