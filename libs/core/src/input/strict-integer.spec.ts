import { plainToInstance } from 'class-transformer';
import { IsOptional, Max, Min, validateSync } from 'class-validator';
import { StrictInteger } from './decorators';
import { parseStrictInteger } from './strict-integer';

describe('parseStrictInteger', () => {
  it.each([
    ['0', 0],
    ['7', 7],
    ['3600', 3600],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
  ])('reads %p as %p', (text, value) => {
    expect(parseStrictInteger(text)).toBe(value);
  });

  it.each([
    [''],
    [' '],
    [' 5'],
    ['5 '],
    ['1e3'],
    ['0x10'],
    ['0b1'],
    ['0o7'],
    ['+5'],
    ['-5'],
    ['05'],
    ['1.0'],
    ['1_000'],
    ['٣'], // an Arabic-Indic three
    ['Infinity'],
    ['9007199254740993'], // beyond what a double holds exactly
    ['12345678901234567'],
  ])('refuses %p', (text) => {
    expect(parseStrictInteger(text)).toBeUndefined();
  });
});

describe('@StrictInteger', () => {
  class Query {
    @IsOptional()
    @StrictInteger()
    @Min(0)
    @Max(100)
    n?: number;
  }

  const check = (plain: Record<string, unknown>) => {
    const query = plainToInstance(Query, plain);
    return { query, errors: validateSync(query).flatMap((e) => Object.values(e.constraints ?? {})) };
  };

  it('turns decimal digits into a number and leaves an absent parameter absent', () => {
    expect(check({ n: '42' })).toEqual({ query: { n: 42 }, errors: [] });
    expect(check({}).errors).toEqual([]);
  });

  it.each([[''], ['1e1'], [' 1'], ['0x1'], [['1', '1']], ['101']])(
    'refuses %p: an empty or repeated value is an error, not "absent"',
    (n) => {
      expect(check({ n }).errors).not.toEqual([]);
    },
  );

  it('says what it wants', () => {
    expect(check({ n: '1e1' }).errors).toContain('n must be a whole number in decimal digits');
  });
});
