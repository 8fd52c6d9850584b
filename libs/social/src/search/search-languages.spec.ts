import { searchConfigurationFor } from './search-languages';

describe('searchConfigurationFor', () => {
  it('stems languages PostgreSQL knows, by their primary subtag', () => {
    expect(searchConfigurationFor('en')).toBe('english');
    expect(searchConfigurationFor('pt-BR')).toBe('portuguese');
    expect(searchConfigurationFor('de_AT')).toBe('german');
    expect(searchConfigurationFor('nb')).toBe('norwegian');
  });

  it('indexes word for word what it cannot stem, and statuses without a language', () => {
    expect(searchConfigurationFor('ja')).toBe('simple');
    expect(searchConfigurationFor(null)).toBe('simple');
    expect(searchConfigurationFor('')).toBe('simple');
  });
});
