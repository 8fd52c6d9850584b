import { checkEmailAddress, checkText } from '@townhall/core';
import { checkTenantDomain, DISPLAY_NAME_RULE } from '@townhall/provisioning';
import {
  checkedOption,
  InvalidOptionValue,
  notice,
  positiveIntegerOption,
  printFields,
  printJson,
  printLine,
  printTable,
} from './cli-output';

describe('option parsers', () => {
  it('read integers strictly, within their range', () => {
    expect(positiveIntegerOption('25', 500)).toBe(25);
    expect(positiveIntegerOption('0', 10, 0)).toBe(0);
    for (const bad of ['', ' 5', '5 ', '1e3', '0x10', '010', '+5', '-1', '1.5', '501', '0']) {
      expect(() => positiveIntegerOption(bad, 500)).toThrow(InvalidOptionValue);
    }
  });

  it('apply the use cases’ rules and hand back the normalised value', () => {
    expect(checkedOption(checkText('  Cafe\u0301  ', DISPLAY_NAME_RULE)).text).toBe('Café');
    expect(checkedOption(checkTenantDomain('Social.BMI.Example.')).domain).toBe('social.bmi.example');
    expect(checkedOption(checkEmailAddress('press@bmi.example')).address).toBe('press@bmi.example');
  });

  it.each<[string, () => unknown, RegExp]>([
    ['a display name with ESC', () => checkedOption(checkText('\u001b[2J', DISPLAY_NAME_RULE)), /U\+001B/],
    ['a domain with a path', () => checkedOption(checkTenantDomain('x.example/admin')), /host name/],
    ['an e-mail without a dotted domain', () => checkedOption(checkEmailAddress('a@b')), /e-mail address/],
  ])('refuse %s as a usage error that says why', (_name, parse, why) => {
    expect(parse).toThrow(InvalidOptionValue);
    expect(parse).toThrow(why);
  });
});

describe('output', () => {
  let out: string[];
  let err: string[];

  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
  });

  afterEach(() => jest.restoreAllMocks());

  const steering = (text: string) =>
    /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text); // eslint-disable-line no-control-regex

  it('shows control, escape, bidi and invisible characters of data visibly in every form', () => {
    const name = 'Red\u001b[31m\u202e\u009b2J\u200b\u0007';
    printLine(`Tenant ${name} is suspended.`);
    printTable(['name'], [[name]]);
    printFields([['display name', name]]);
    notice(`error: ${name}`);
    for (const text of [...out, ...err]) expect(steering(text)).toBe(false);
    expect(out[0]).toBe('Tenant Red\\u{1B}[31m\\u{202E}\\u{9B}2J\\u{200B}\\u{7} is suspended.\n');
    expect(out[1]).toContain('Red\\u{1B}[31m\\u{202E}\\u{9B}2J\\u{200B}\\u{7}');
  });

  it('keeps JSON parseable and equal, with the same characters as JSON escapes', () => {
    const value = { displayName: 'Red\u001b[31m\u202e\u009b\u2028', domains: ['a.example'] };
    printJson(value);
    expect(steering(out[0])).toBe(false);
    expect(out[0]).not.toContain('\u2028');
    expect(JSON.parse(out[0])).toEqual(value);
  });
});
