import { checkEmailAddress } from './email-address';

describe('checkEmailAddress', () => {
  it.each([
    'press@bmi.example',
    'Press.Office+2025@BMI.Example',
    "o'brien@agency.example",
    'a@bürgeramt.example',
    `${'a'.repeat(64)}@x.example`,
  ])('accepts %p as written', (address) => {
    expect(checkEmailAddress(address)).toEqual({ address });
  });

  it.each([
    '',
    'press',
    'press@',
    '@bmi.example',
    'a@b',
    'a@localhost',
    'a@127.0.0.1',
    'a@[127.0.0.1]',
    'a@x.example.',
    'a@x.example:25',
    'a@@x.example',
    '.a@x.example',
    'a.@x.example',
    'a..b@x.example',
    '"a b"@x.example',
    'a b@x.example',
    ' a@x.example',
    'a@x.example ',
    'a@x.example\u0000',
    'a\u0000@x.example',
    'ä@x.example',
    'a@x.exa_mple',
    'a@pathy.example/admin',
    'a@al\u200bpha.example',
    `${'a'.repeat(65)}@x.example`,
    `a@${'x'.repeat(250)}.example`,
  ])('refuses %p', (value) => {
    expect(checkEmailAddress(value).problem).toBe(
      'adminEmail must be an e-mail address such as press@agency.example',
    );
  });

  it('refuses what is not a string', () => {
    expect(checkEmailAddress(undefined).problem).toBeDefined();
  });
});
