import {
  DEFAULT_DELETION_GRACE_SECONDS,
  DeleteTenantCommand,
  MAX_DELETION_GRACE_SECONDS,
  MIN_DELETION_GRACE_SECONDS,
} from './commands';

describe('DeleteTenantCommand', () => {
  it('keeps the data a week unless told otherwise', () => {
    expect(new DeleteTenantCommand()).toEqual({
      graceSeconds: DEFAULT_DELETION_GRACE_SECONDS,
      purgeImmediately: false,
    });
  });

  it.each([MIN_DELETION_GRACE_SECONDS, 86_400, MAX_DELETION_GRACE_SECONDS])(
    'accepts a grace period of %p s',
    (s) => {
      expect(new DeleteTenantCommand({ graceSeconds: s })).toEqual({
        graceSeconds: s,
        purgeImmediately: false,
      });
    },
  );

  it('purges at once only when that is confirmed by name', () => {
    expect(new DeleteTenantCommand({ purgeImmediately: true })).toEqual({
      graceSeconds: 0,
      purgeImmediately: true,
    });
    expect(new DeleteTenantCommand({ graceSeconds: 0, purgeImmediately: true }).graceSeconds).toBe(0);
  });

  it.each([0, 1, MIN_DELETION_GRACE_SECONDS - 1])(
    'refuses a grace period of %p s without the confirmation, naming it',
    (graceSeconds) => {
      expect(() => new DeleteTenantCommand({ graceSeconds })).toThrow(
        expect.objectContaining({
          code: 'invalid_command',
          detail: expect.stringContaining('confirm an immediate purge'),
        }),
      );
    },
  );

  it.each([-1, 1.5, Number.NaN, MAX_DELETION_GRACE_SECONDS + 1, Number.POSITIVE_INFINITY])(
    'refuses the grace period %p',
    (graceSeconds) => {
      expect(() => new DeleteTenantCommand({ graceSeconds })).toThrow(
        expect.objectContaining({ code: 'invalid_command' }),
      );
    },
  );

  it('refuses a purge that also names a grace period', () => {
    expect(() => new DeleteTenantCommand({ graceSeconds: 3600, purgeImmediately: true })).toThrow(
      expect.objectContaining({ detail: expect.stringContaining('not both') }),
    );
  });
});
