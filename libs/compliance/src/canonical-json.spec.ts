import {
  canonicalJson,
  canonicalJsonBytes,
  canonicalJsonOfParsed,
  isCanonicalJsonBytes,
} from './canonical-json';
import { ComplianceError } from './compliance.errors';

/** The vectors below are the examples of RFC 8785 (§3.2.2, §3.2.3, Appendix B). */
function ieee754(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('canonicalJson (RFC 8785 JCS)', () => {
  it('canonicalises the example of §3.2.2 to the bytes of §3.2.4', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    ) as unknown;
    const expected =
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
      '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';
    expect(canonicalJson(input)).toBe(expected);
    expect(canonicalJsonBytes(input).toString('hex')).toBe(
      '7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b333333333333' +
        '3333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282' +
        'ac245c75303030665c6e4127425c225c5c5c5c5c222f227d',
    );
  });

  it('sorts members by UTF-16 code units as in §3.2.3', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",' +
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",' +
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    ) as Record<string, string>;
    // The emoji (a surrogate pair starting 0xD83D) sorts before U+FB33 although its code point is larger.
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('serialises the Appendix B number %s as %s', (bits, expected) => {
    expect(canonicalJson(ieee754(bits))).toBe(expected);
    expect(canonicalJson({ n: ieee754(bits) })).toBe(`{"n":${expected}}`);
  });

  it.each([
    ['NaN (7fffffffffffffff)', ieee754('7fffffffffffffff')],
    ['Infinity (7ff0000000000000)', ieee754('7ff0000000000000')],
    ['-Infinity', -Infinity],
  ])('refuses %s', (_name, value) => {
    expect(() => canonicalJson({ n: value })).toThrow(ComplianceError);
  });

  it('escapes control characters in lower-case hex and keeps everything else literal', () => {
    expect(canonicalJson('\u0000\u001f\b\t\n\f\r"\\/é')).toBe('"\\u0000\\u001f\\b\\t\\n\\f\\r\\"\\\\/é"');
  });

  it('keeps array order, sorts nested objects and writes no whitespace', () => {
    expect(canonicalJson({ b: [3, { z: 1, a: 2 }, 1], a: { d: true, c: null } })).toBe(
      '{"a":{"c":null,"d":true},"b":[3,{"a":2,"z":1},1]}',
    );
  });

  it('refuses what JSON.stringify would silently change', () => {
    const refused: unknown[] = [
      undefined,
      { a: undefined },
      [1, undefined],
      () => 1,
      { f: () => 1 },
      Symbol('s'),
      10n,
      new Date(0),
      new Map(),
      Buffer.from('x'),
      '\ud800',
      { ['\udc00']: 1 },
    ];
    for (const value of refused) expect(() => canonicalJson(value)).toThrow(ComplianceError);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => canonicalJson([1, , 3])).toThrow(ComplianceError);
  });

  it('accepts well-formed surrogate pairs and objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = '😀';
    bare.a = 1;
    expect(canonicalJson(bare)).toBe('{"a":1,"b":"😀"}');
  });

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(/nested deeper/);
  });
});

describe('isCanonicalJsonBytes', () => {
  /** The reference: the text is what canonicalJsonOfParsed makes of its own parse. */
  function reference(text: string): boolean {
    try {
      return canonicalJsonOfParsed(JSON.parse(text)) === text;
    } catch {
      return false;
    }
  }
  const check = (bytes: Buffer) => isCanonicalJsonBytes(bytes, 0, bytes.length);

  const entry = {
    action: 'account.suspend',
    actor: { id: '4242', type: 'operator', via: 'token:17' },
    details: {
      list: [1, -2, 0, 1.5, -0.25, 1e21, 5e-324, 123456789012345, true, false, null, [], {}],
      note: 'Überprüfung – € 😀 "quoted" \\ back\nline\ttab\u0001\u001f\u007f\u2028',
      nested: { a: { b: [{ c: 'd' }] }, z: '' },
    },
    outcome: 'success',
    seq: 12,
    target: { id: '7', type: 'account' },
    tenant: '1001',
    tenantSeq: 3,
    time: '2025-01-15T09:30:00.000Z',
  };
  const canonical = canonicalJson(entry);

  it('accepts canonical text, unicode and escapes included', () => {
    expect(reference(canonical)).toBe(true);
    expect(check(Buffer.from(canonical))).toBe(true);
    for (const value of [{}, [], 0, 'x', { '': 1, a: [] }, [{ b: 1, c: { d: null } }]]) {
      expect(check(Buffer.from(canonicalJson(value)))).toBe(true);
    }
  });

  it('refuses every way of writing the same entry differently', () => {
    const variants: (string | Buffer)[] = [
      JSON.stringify(entry, null, 1),
      canonical.replace('{"action"', '{ "action"'),
      canonical.replace(
        '"action":"account.suspend",',
        '"action":"tenant.delete","action":"account.suspend",',
      ),
      canonical.replace('"tenant":"1001"', '"tenant":"999","tenant":"1001"'),
      canonical.replace('"outcome":"success","seq":12', '"seq":12,"outcome":"success"'),
      canonical.replace('"seq":12', '"seq":12.0'),
      canonical.replace('"seq":12', '"seq":1.2e1'),
      canonical.replace('"seq":12', '"seq":012'),
      canonical.replace('-0.25', '-.25'),
      canonical.replace('1e+21', '1E+21'),
      canonical.replace('1e+21', '1000000000000000000000'),
      canonical.replace(',0,', ',-0,'),
      canonical.replace('123456789012345', '12345678901234567890'),
      canonical.replace('operator', 'op\\u0065rator'),
      canonical.replace('operator', 'op\\/erator'),
      canonical.replace('\\n', '\\u000a'),
      canonical.replace('\\u0001', '\\u0001'.toUpperCase()),
      canonical.replace('\\u001f', '\\u001F'),
      canonical.replace('Überprüfung', '\\u00dcberpr\\u00fcfung'),
      canonical.replace('😀', '\\ud83d\\ude00'),
      canonical.replace('quoted', 'lone \\ud800 half'),
      canonical.replace('"z":""', '"z":"","z":""'),
      canonical.replace('{"c":"d"}', '{"c":"d","b":"e"}'),
      Buffer.concat([
        Buffer.from(canonical.slice(0, 20)),
        Buffer.from([0xff]),
        Buffer.from(canonical.slice(20)),
      ]),
      Buffer.concat([Buffer.from(canonical.replace('quoted', 'q')), Buffer.from([0xed, 0xa0, 0x80])]),
    ];
    for (const variant of variants) {
      const bytes = typeof variant === 'string' ? Buffer.from(variant) : variant;
      const text = bytes.toString('utf8');
      expect([text, check(bytes)]).toEqual([text, false]);
      // The reference agrees wherever the bytes are valid UTF-8 that parses.
      if (typeof variant === 'string') expect([text, reference(text)]).toEqual([text, false]);
    }
  });

  it('refuses nesting deeper than the canonical form allows, as the reference does', () => {
    for (const depth of [64, 65]) {
      const text = '['.repeat(depth) + ']'.repeat(depth);
      expect([depth, check(Buffer.from(text)), reference(text)]).toEqual([depth, depth <= 64, depth <= 64]);
    }
  });

  it('never calls text canonical that the reference does not (random edits of a canonical entry)', () => {
    const pieces = [
      ' ',
      '\n',
      ',',
      ':',
      '"',
      '\\',
      '{',
      '}',
      '[',
      ']',
      '0',
      '1',
      '-',
      '.',
      'e',
      'a',
      'é',
      '\\u0041',
    ];
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let parsedVariants = 0;
    for (let k = 0; k < 20_000; k++) {
      const at = random(canonical.length);
      const cut = random(3);
      const text = canonical.slice(0, at) + pieces[random(pieces.length)] + canonical.slice(at + cut);
      try {
        JSON.parse(text);
      } catch {
        continue;
      }
      parsedVariants++;
      if (check(Buffer.from(text))) expect([text, reference(text)]).toEqual([text, true]);
    }
    expect(parsedVariants).toBeGreaterThan(1000);
  });
});
