import type { EntityManager } from 'typeorm';
import { findLocalAccountId, insertLocalAccount, insertUser, usernameFromEmail } from './local-accounts';

describe('usernameFromEmail', () => {
  it.each([
    ['press@bmi.example', 'press'],
    ['Press.Office@bmi.example', 'press_office'],
    ['press+news@bmi.example', 'press_news'],
    ['jürgen.müller@bmi.example', 'j_rgen_m_ller'],
    ['__press__@bmi.example', 'press'],
    ['a--b..c@bmi.example', 'a_b_c'],
    ['press_2025@bmi.example', 'press_2025'],
  ])('makes a Mastodon username of %p: %p', (email, username) => {
    expect(usernameFromEmail(email)).toBe(username);
  });

  it('keeps at most 30 characters', () => {
    const username = usernameFromEmail(`${'a'.repeat(40)}@bmi.example`);
    expect(username).toBe('a'.repeat(30));
    expect(usernameFromEmail(`${'b'.repeat(29)}.c@x.example`)).toBe(`${'b'.repeat(29)}_`);
  });

  it.each(['…@bmi.example', '+++@bmi.example', '@bmi.example', 'Ωμέγα@bmi.example'])(
    'falls back to a neutral name when nothing of %p fits',
    (email) => {
      expect(usernameFromEmail(email)).toBe('admin');
      expect(usernameFromEmail(email, 'owner')).toBe('owner');
    },
  );

  it('always gives what Mastodon accepts as a username', () => {
    for (const email of ['x@y', 'Ä.Ö@y', 'a b@y', '"q"@y', 'tab\there@y', `${'z'.repeat(64)}@y`]) {
      expect(usernameFromEmail(email)).toMatch(/^[a-z0-9_]{1,30}$/);
    }
  });
});

/** The queries run in the caller's transaction, with every value a bound parameter. */
describe('local account queries', () => {
  const manager = { query: jest.fn() };
  const m = manager as unknown as EntityManager;
  const hostile = "x'); DROP TABLE accounts; --";

  beforeEach(() => manager.query.mockReset());

  it('inserts a local account (no domain) with its values bound, and answers its id', async () => {
    manager.query.mockResolvedValue([{ id: '77' }]);
    const id = await insertLocalAccount(m, {
      username: hostile,
      displayName: hostile,
      actorType: 'Person',
      uri: 'https://social.bmi.example/users/press',
      url: null,
    });
    expect(id).toBe('77');
    const [sql, params] = manager.query.mock.calls[0] as [string, unknown[]];
    expect(sql).not.toContain(hostile);
    expect(sql).toMatch(/VALUES \(\$1, NULL, /);
    expect(params).toEqual([hostile, hostile, 'Person', 'https://social.bmi.example/users/press', null]);
  });

  it('finds a local account whatever the case of the name, never a remote one', async () => {
    manager.query.mockResolvedValueOnce([{ id: '77' }]).mockResolvedValueOnce([]);
    expect(await findLocalAccountId(m, 'Press')).toBe('77');
    expect(await findLocalAccountId(m, hostile)).toBeNull();
    const [sql, params] = manager.query.mock.calls[1] as [string, unknown[]];
    expect(sql).toMatch(/lower\(username\) = lower\(\$1\) AND domain IS NULL/);
    expect(params).toEqual([hostile]);
  });

  it('confirms a user at once only when told to', async () => {
    manager.query.mockResolvedValue([{ id: '5' }]);
    await insertUser(m, { accountId: '77', email: 'press@bmi.example', role: 'owner', confirmed: true });
    expect(manager.query.mock.calls[0][1]).toEqual(['77', 'press@bmi.example', 'owner', true]);
    expect(manager.query.mock.calls[0][0]).toContain('CASE WHEN $4 THEN now() END');
  });
});
