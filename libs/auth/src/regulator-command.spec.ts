import { CreateRegulatorCommand, parseRegulatorExpiry } from './regulator-command';
import { Regulator } from './regulator-identity';
import { generateRegulatorToken, isRegulatorToken } from './regulator-token';
import { generateOperatorToken } from './operator-token';

const NOW = new Date('2025-06-01T12:00:00Z');
const make = (input: Partial<ConstructorParameters<typeof CreateRegulatorCommand>[0]>) =>
  new CreateRegulatorCommand({ name: 'Authority', expiresAt: '2025-12-31', ...input }, NOW);

describe('issuing a regulator', () => {
  it('takes a scope of named tenants, deduplicated and in numeric order, or the whole platform', () => {
    expect(make({ tenantIds: ['20', '3', '20', '100'] }).scope).toEqual({
      all: false,
      tenantIds: ['3', '20', '100'],
    });
    expect(make({ all: true }).scope).toEqual({ all: true });
  });

  it('needs exactly one kind of scope, with real tenant ids', () => {
    expect(() => make({})).toThrow(/needs a scope/);
    expect(() => make({ tenantIds: [] })).toThrow(/needs a scope/);
    expect(() => make({ all: true, tenantIds: ['1'] })).toThrow(/not both/);
    expect(() => make({ all: false, tenantIds: ['1'] })).toThrow(/all may only be true/);
    expect(() => make({ tenantIds: ['1', '0x10'] })).toThrow(/tenantIds\[1\]/);
    expect(() => make({ tenantIds: ['9223372036854775808'] })).toThrow(/tenantIds\[0\]/);
    expect(() => make({ tenantIds: Array.from({ length: 501 }, (_, i) => String(i + 1)) })).toThrow(/500/);
  });

  it('needs an expiry in the future and at most 730 days ahead', () => {
    expect(make({ all: true, expiresAt: '2025-06-01T12:00:01Z' }).expiresAt.toISOString()).toBe(
      '2025-06-01T12:00:01.000Z',
    );
    expect(make({ all: true, expiresAt: '2027-06-01T12:00:00Z' }).expiresAt).toEqual(
      new Date('2027-06-01T12:00:00Z'),
    );
    expect(() => make({ all: true, expiresAt: '2025-06-01T12:00:00Z' })).toThrow(/future/);
    expect(() => make({ all: true, expiresAt: '2027-06-01T12:00:01Z' })).toThrow(/730 days/);
  });

  it('trims the name and refuses blank, long or control-character names', () => {
    expect(make({ all: true, name: '  DPA  ' }).name).toBe('DPA');
    expect(() => make({ all: true, name: ' ' })).toThrow(/name/);
    expect(() => make({ all: true, name: 'x'.repeat(101) })).toThrow(/name/);
    expect(() => make({ all: true, name: 'DPA\u0007' })).toThrow(/name/);
  });
});

describe('regulator expiry', () => {
  it('reads RFC 3339 timestamps with an offset, and dates as 00:00 UTC', () => {
    expect(parseRegulatorExpiry('2026-06-30')).toEqual(new Date('2026-06-30T00:00:00Z'));
    expect(parseRegulatorExpiry('2026-06-30T10:00:00+02:00')).toEqual(new Date('2026-06-30T08:00:00Z'));
    expect(parseRegulatorExpiry('2026-06-30T10:00:00.5Z')).toEqual(new Date('2026-06-30T10:00:00.500Z'));
  });

  it('refuses everything else, including dates that do not exist', () => {
    for (const value of ['2026-02-30', '2026-13-01', '2026-06-30T10:00:00', 'June 30', '1782777600', ''])
      expect({ value, parsed: parseRegulatorExpiry(value) }).toEqual({ value, parsed: null });
  });
});

describe('regulator tokens and scope', () => {
  it('have a shape of their own that no operator token has', () => {
    const token = generateRegulatorToken();
    expect(token).toMatch(/^thrg_[A-Za-z0-9_-]{43}$/);
    expect(isRegulatorToken(token)).toBe(true);
    expect(isRegulatorToken(generateOperatorToken())).toBe(false);
    expect(isRegulatorToken(`${token}x`)).toBe(false);
    expect(isRegulatorToken(undefined)).toBe(false);
  });

  it('lets a scoped regulator read only its tenants, never the whole platform', () => {
    const at = (
      scope: Regulator['scope'],
      revokedAt: Date | null = null,
      expiresAt = new Date('2026-01-01'),
    ) => new Regulator('9', 'R', scope, 'abcd', expiresAt, null, new Date('2025-01-01'), null, revokedAt);
    const scoped = at({ all: false, tenantIds: ['1', '2'] });
    expect([scoped.mayRead('1'), scoped.mayRead('2'), scoped.mayRead('3'), scoped.mayRead(null)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const all = at({ all: true });
    expect([all.mayRead('3'), all.mayRead(null)]).toEqual([true, true]);
    expect(all.status(new Date('2025-06-01'))).toBe('active');
    expect(all.status(new Date('2026-01-01'))).toBe('expired');
    expect(at({ all: true }, new Date('2025-05-01')).status(new Date('2025-06-01'))).toBe('revoked');
  });
});
