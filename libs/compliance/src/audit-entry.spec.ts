import { auditEntryProblem, auditTimeOrder, isAuditTime } from './audit-entry';

describe('isAuditTime', () => {
  it('accepts RFC 3339 UTC with milliseconds on real days, leap days included', () => {
    for (const time of [
      '2025-01-15T09:30:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '2000-02-29T00:00:00.000Z',
      '2025-04-30T12:00:00.000Z',
      '2025-12-31T00:00:00.000Z',
    ]) {
      expect([time, isAuditTime(time)]).toEqual([time, true]);
    }
  });

  it('refuses days a month does not have, other shapes and other types', () => {
    for (const time of [
      '2025-02-29T00:00:00.000Z', // not a leap year
      '1900-02-29T00:00:00.000Z', // divisible by 100, not by 400
      '2025-02-30T00:00:00.000Z',
      '2025-04-31T00:00:00.000Z',
      '2025-13-01T00:00:00.000Z',
      '2025-01-15T24:00:00.000Z',
      '2025-01-15T09:30:00Z',
      '2025-01-15T09:30:00.000+01:00',
      '2025-01-15 09:30:00.000Z',
      ' 2025-01-15T09:30:00.000Z',
      1736933400000,
      null,
    ]) {
      expect([time, isAuditTime(time)]).toEqual([time, false]);
    }
  });

  it('makes an entry on an impossible day malformed', () => {
    const entry = {
      seq: 0,
      time: '2025-02-30T10:00:00.000Z',
      tenant: null,
      actor: { type: 'system', id: 'cli' },
      action: 'tenant.create',
      target: { type: 'tenant', id: '1' },
      outcome: 'success',
      details: {},
    };
    expect(auditEntryProblem(entry)).toBe('time must be RFC 3339 UTC with milliseconds');
    expect(auditEntryProblem({ ...entry, time: '2025-02-28T10:00:00.000Z' })).toBeNull();
  });
});

describe('auditTimeOrder', () => {
  it('orders audit timestamps as time does, from year 0 to 9999', () => {
    const first = Date.parse('0000-01-01T00:00:00.000Z');
    const last = Date.parse('9999-12-31T23:59:59.999Z');
    const instants = [
      first,
      last,
      Date.parse('0099-12-31T23:59:59.999Z'),
      Date.parse('0100-01-01T00:00:00.000Z'),
    ];
    for (let i = 0; i < 2000; i++) instants.push(first + Math.floor(Math.random() * (last - first)));
    instants.push(Date.parse('2024-02-29T23:59:59.999Z'), Date.parse('2024-03-01T00:00:00.000Z'));
    const times = instants
      .map((ms) => new Date(ms).toISOString())
      .filter((time) => isAuditTime(time))
      .sort();
    expect(times.length).toBeGreaterThan(1900);
    for (let i = 1; i < times.length; i++) {
      const [a, b] = [times[i - 1], times[i]];
      expect([a, b, Math.sign(auditTimeOrder(b) - auditTimeOrder(a))]).toEqual([
        a,
        b,
        Math.sign(Date.parse(b) - Date.parse(a)),
      ]);
    }
  });
});
