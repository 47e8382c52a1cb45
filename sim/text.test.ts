import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import {
  countTokens,
  generateJson,
  generateProse,
  type JsonSchema,
  pieces,
  Prng,
  seedFrom,
  UnsupportedSchemaError,
} from './text';

/**
 * How many characters `fn` reads with `String.prototype.charCodeAt`, the tokenizer's only way of reading
 * text: a count of work that does not depend on the machine's speed or load.
 */
function charReads(fn: () => void): number {
  const charCodeAt = String.prototype.charCodeAt;
  let reads = 0;
  String.prototype.charCodeAt = function countedCharCodeAt(this: string, index: number): number {
    reads++;
    return charCodeAt.call(this, index);
  };
  try {
    fn();
  } finally {
    String.prototype.charCodeAt = charCodeAt;
  }
  return reads;
}

/** Reference FNV-1a over Node's own UTF-8 encoder, independent of the implementation under test. */
function referenceFnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('seedFrom', () => {
  it('matches the published FNV-1a test vectors', () => {
    expect(seedFrom()).toBe(0x811c9dc5);
    expect(seedFrom('')).toBe(0x811c9dc5);
    expect(seedFrom('a')).toBe(0xe40c292c);
    expect(seedFrom('foobar')).toBe(0xbf9cf968);
  });

  it('hashes the UTF-8 bytes of the parts joined with NUL', () => {
    for (const parts of [['€', 'naïve'], ['👨‍👩‍👧', 42, 'x'], ['req-1', 0, ''], [3.5]]) {
      expect(seedFrom(...parts)).toBe(referenceFnv1a(parts.map(String).join('\u0000')));
    }
  });

  it('separates parts, so ("ab") and ("a", "b") differ', () => {
    expect(seedFrom('ab')).not.toBe(seedFrom('a', 'b'));
    expect(seedFrom('a', 'b')).not.toBe(seedFrom('b', 'a'));
    expect(seedFrom('req', 1)).toBe(seedFrom('req', '1'));
  });

  it('returns an unsigned 32-bit integer', () => {
    for (let i = 0; i < 100; i++) {
      const seed = seedFrom('request', i);
      expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
    }
  });
});

describe('Prng', () => {
  const draw = (seed: number, n: number): number[] => {
    const prng = new Prng(seed);
    return Array.from({ length: n }, () => prng.next());
  };

  it('is reproducible from its seed and differs between seeds', () => {
    expect(draw(42, 50)).toEqual(draw(42, 50));
    expect(draw(42, 50)).not.toEqual(draw(43, 50));
    expect(draw(0, 10)).not.toEqual(draw(2 ** 32 - 1, 10));
  });

  it('next() stays in [0, 1) and is roughly uniform', () => {
    const values = draw(7, 20_000);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const buckets = new Array<number>(10).fill(0);
    for (const v of values) buckets[Math.floor(v * 10)]! += 1;
    for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });

  it('int() is inclusive at both ends and rejects bad ranges', () => {
    const prng = new Prng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = prng.int(-2, 3);
      expect(Number.isInteger(v) && v >= -2 && v <= 3).toBe(true);
      seen.add(v);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(prng.int(5, 5)).toBe(5);
    expect(() => prng.int(3, 2)).toThrow(RangeError);
    expect(() => prng.int(0.5, 2)).toThrow(RangeError);
  });

  it('pick() reaches every item and rejects an empty list', () => {
    const prng = new Prng(3);
    const items = ['a', 'b', 'c'] as const;
    const seen = new Set(Array.from({ length: 200 }, () => prng.pick(items)));
    expect(seen).toEqual(new Set(items));
    expect(() => prng.pick([])).toThrow(RangeError);
  });

  it('normal() has mean 0 and standard deviation 1', () => {
    const prng = new Prng(11);
    const samples = Array.from({ length: 20_000 }, () => prng.normal());
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const variance = samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(variance) - 1)).toBeLessThan(0.03);
    expect(samples.every(Number.isFinite)).toBe(true);
  });

  it('lognormal() has the requested median and spread', () => {
    const prng = new Prng(5);
    const samples = Array.from({ length: 20_001 }, () => prng.lognormal(200, 0.5)).sort((a, b) => a - b);
    expect(samples[0]).toBeGreaterThan(0);
    expect(Math.abs(samples[10_000]! / 200 - 1)).toBeLessThan(0.03);
    // The 84th percentile of a lognormal is median * e^sigma.
    expect(Math.abs(samples[Math.round(0.8413 * 20_000)]! / (200 * Math.exp(0.5)) - 1)).toBeLessThan(0.05);
    expect(new Prng(1).lognormal(50, 0)).toBe(50);
    expect(() => prng.lognormal(0, 1)).toThrow(RangeError);
    expect(() => prng.lognormal(10, -1)).toThrow(RangeError);
  });
});

describe('pieces / countTokens', () => {
  it.each([
    ['Hello, world!', ['Hello', ',', ' world', '!']],
    ['', []],
    [' leading', [' leading']],
    ['a  b', ['a', ' ', ' b']],
    ['a   b', ['a', '  ', ' b']],
    ['end.  ', ['end', '.', '  ']],
    ['one\ntwo\r\n\r\nthree', ['one', '\n', 'two', '\r\n\r\n', 'three']],
    ['\n  indented', ['\n ', ' indented']],
    ['tab\there', ['tab', '\t', 'here']],
    ['12345 and 2024', ['123', '45', ' and', ' 202', '4']],
    ['supercalifragilisticexpialidocious', ['supercalifra', 'gilisticexpi', 'alidocious']],
    ['"quoted" (yes)...', ['"', 'quoted', '"', ' (', 'yes', ')', '.', '.', '.']],
    ['café naïve', ['café', ' naïve']],
    ['cafe\u0301!', ['cafe\u0301', '!']],
    ['I ❤️ 👍🏽!', ['I', ' ❤️', ' 👍🏽', '!']],
    ['family 👨‍👩‍👧 flag 🇺🇸🇫🇷', ['family', ' 👨‍👩‍👧', ' flag', ' 🇺🇸', '🇫🇷']],
    ['日本語のテキスト', ['日', '本', '語', 'の', 'テ', 'キ', 'ス', 'ト']],
    ['Привет, мир', ['Привет', ',', ' мир']],
  ])('splits %j as expected', (text, expected) => {
    expect(pieces(text)).toEqual(expected);
    expect(countTokens(text)).toBe(expected.length);
  });

  it('is lossless and never splits a surrogate pair, on random tricky strings', () => {
    const alphabet = [
      'a', 'Z', 'é', 'ß', 'Ж', '語', 'の', '7', '٣', ' ', ' ', '  ', '\n', '\r\n', '\t', '\u00a0', '\u3000',
      ',', '.', '!', '"', "'", '{', '}', '-', '😀', '👍🏽', '👨‍👩‍👧', '🇺🇸', '❤️', '\u0301', '\u200d', '\ufe0f',
      '𝔘', '\u{1F3FB}',
    ]; // prettier-ignore
    for (let seed = 0; seed < 300; seed++) {
      const prng = new Prng(seed);
      const text = Array.from({ length: prng.int(0, 60) }, () => prng.pick(alphabet)).join('');
      const split = pieces(text);
      expect(split.join('')).toBe(text);
      expect(split.every((piece) => piece.length > 0 && !LONE_SURROGATE.test(piece))).toBe(true);
      expect(countTokens(text)).toBe(split.length);
    }
  });

  it('keeps lone surrogates intact (lossless even for malformed UTF-16)', () => {
    const text = 'a\uD83D b\uDE00c \uDC00\uD800';
    expect(pieces(text).join('')).toBe(text);
  });

  it('gives plausible counts for ordinary English', () => {
    const text = 'The quick brown fox jumps over the lazy dog. It was not amused, and neither was the cat!';
    // 18 words + 3 punctuation marks.
    expect(countTokens(text)).toBe(21);
    expect(countTokens(' x'.repeat(1000))).toBe(1000);
    // A trailing space has no word to attach to, so it is a token of its own.
    expect(countTokens('x '.repeat(1000))).toBe(1001);
  });

  it('does work linear in the length of inputs that trap backtracking regexes', () => {
    const n = 24_000;
    const cases: [string, (text: string) => unknown, unknown][] = [
      [`${' '.repeat(n)}x`, pieces, [' '.repeat(n - 1), ' x']],
      ['a'.repeat(n), countTokens, n / 12],
      ['\u0301'.repeat(n), countTokens, 1],
      ['.!'.repeat(n / 2), countTokens, n],
    ];
    for (const [text, split, expected] of cases) {
      let result: unknown;
      const reads = charReads(() => (result = split(text)));
      expect(result).toEqual(expected);
      // Every character is read (so the count sees the work), and only a few times: quadratic work would
      // read each one thousands of times.
      expect(reads).toBeGreaterThanOrEqual(text.length);
      expect(reads).toBeLessThanOrEqual(10 * text.length);
    }
  });
});

describe('generateProse', () => {
  it.each([0, 1, 7, 500])('returns exactly %i pieces that re-split to themselves', (n) => {
    const out = generateProse(new Prng(seedFrom('prose', n)), n);
    expect(out).toHaveLength(n);
    expect(pieces(out.join(''))).toEqual(out);
  });

  it('countTokens(text) === n for many seeds and lengths (token accounting property)', () => {
    for (let seed = 0; seed < 200; seed++) {
      const prng = new Prng(seed);
      for (const n of [prng.int(0, 40), prng.int(40, 300), 1000]) {
        const out = generateProse(prng, n);
        const text = out.join('');
        expect(out).toHaveLength(n);
        expect(countTokens(text)).toBe(n);
        expect(pieces(text)).toEqual(out);
      }
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const text = (seed: number): string => generateProse(new Prng(seed), 80).join('');
    expect(text(1)).toBe(text(1));
    expect(new Set([1, 2, 3, 4, 5].map(text)).size).toBe(5);
  });

  it('continues from the prng state, so consecutive calls differ', () => {
    const prng = new Prng(9);
    expect(generateProse(prng, 30)).not.toEqual(generateProse(prng, 30));
  });

  it('reads like sentences: capitalised, words separated by spaces, ending with a period', () => {
    for (let seed = 0; seed < 100; seed++) {
      const n = 2 + (seed % 120);
      const text = generateProse(new Prng(seed), n).join('');
      expect(text).toMatch(/^[A-Z][a-z]*(?:(?:, | |\. |\.\n\n)[A-Za-z]+)*\.$/);
      // Every sentence starts with a capital letter, and only there.
      for (const sentence of text.split(/\.(?: |\n\n)/)) expect(sentence).toMatch(/^[A-Z][a-z]*(?:,? [a-z]+)*\.?$/);
    }
    expect(generateProse(new Prng(1), 1)).toEqual([expect.stringMatching(/^[A-Z][a-z]+$/)]);
  });

  it('uses a vocabulary of a few hundred words', () => {
    const vocabulary = new Set(
      generateProse(new Prng(1), 50_000)
        .map((piece) => piece.trim().toLowerCase())
        .filter((word) => /^[a-z]+$/.test(word)),
    );
    expect(vocabulary.size).toBeGreaterThan(300);
    expect(vocabulary.size).toBeLessThan(1000);
  });

  it('rejects a negative or fractional length', () => {
    expect(() => generateProse(new Prng(1), -1)).toThrow(RangeError);
    expect(() => generateProse(new Prng(1), 2.5)).toThrow(RangeError);
  });
});

describe('generateJson', () => {
  // strictRequired off: one schema deliberately requires a name that only additionalProperties describes.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  const SEEDS = 200;

  /** Generates values for SEEDS seeds, asserting each one validates; returns them for further checks. */
  function validValues(name: string, schema: JsonSchema): unknown[] {
    const validate = ajv.compile(schema);
    return Array.from({ length: SEEDS }, (_, seed) => {
      const value = generateJson(schema, new Prng(seedFrom(name, seed)));
      if (!validate(value)) {
        throw new Error(`${name} seed ${seed}: ${JSON.stringify(value)}\n${ajv.errorsText(validate.errors)}`);
      }
      return value;
    });
  }

  const rec = (value: unknown): Record<string, unknown> => value as Record<string, unknown>;

  const schemas: Record<string, JsonSchema> = {
    'nested objects (OpenAI strict)': {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'full name', minLength: 1, maxLength: 20 },
        age: { type: 'integer', minimum: 0, maximum: 120 },
        active: { type: 'boolean' },
        address: {
          type: 'object',
          properties: {
            street: { type: 'string' },
            city: { type: 'string', minLength: 30 },
            zip: { type: 'string', minLength: 5, maxLength: 5 },
            country: { type: 'string', enum: ['NL', 'DE', 'FR'] },
          },
          required: ['street', 'city', 'zip', 'country'],
          additionalProperties: false,
        },
      },
      required: ['name', 'age', 'active', 'address'],
      additionalProperties: false,
    },
    'array of objects': {
      type: 'object',
      properties: {
        orderId: { type: 'string', format: 'uuid' },
        lines: {
          type: 'array',
          minItems: 2,
          maxItems: 5,
          items: {
            type: 'object',
            properties: {
              sku: { type: 'string', maxLength: 8 },
              quantity: { type: 'integer', minimum: 1 },
              price: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
            },
            required: ['sku', 'quantity', 'price'],
            additionalProperties: false,
          },
        },
        tags: { type: 'array', items: { type: 'string' } },
      },
      required: ['orderId', 'lines', 'tags'],
      additionalProperties: false,
    },
    'enums, const and nullable types': {
      type: 'object',
      properties: {
        status: { enum: ['open', 'closed', 'pending'] },
        priority: { type: ['integer', 'null'], minimum: 1, maximum: 3 },
        note: { anyOf: [{ type: 'string', maxLength: 40 }, { type: 'null' }] },
        kind: { const: 'ticket' },
        mixed: { type: ['string', 'null'], enum: ['a', null, 3] },
        labels: { type: 'array', items: { enum: ['bug', 'ui', 'docs', 'api'] }, uniqueItems: true, maxItems: 4 },
      },
      required: ['status', 'priority', 'note', 'kind', 'mixed', 'labels'],
      additionalProperties: false,
    },
    '$defs recursion (tree)': {
      $defs: {
        node: {
          type: 'object',
          properties: {
            label: { type: 'string' },
            children: { type: 'array', items: { $ref: '#/$defs/node' } },
          },
          required: ['label', 'children'],
          additionalProperties: false,
        },
      },
      $ref: '#/$defs/node',
    },
    'definitions recursion (linked list, nullable ref)': {
      type: 'object',
      properties: { head: { $ref: '#/definitions/cell' } },
      required: ['head'],
      definitions: {
        cell: {
          type: 'object',
          properties: {
            value: { type: 'number' },
            next: { anyOf: [{ $ref: '#/definitions/cell' }, { type: 'null' }] },
          },
          required: ['value', 'next'],
          additionalProperties: false,
        },
      },
    },
    'root recursion and mutual recursion': {
      type: 'object',
      properties: {
        name: { type: 'string' },
        parent: { $ref: '#' },
        expression: { $ref: '#/$defs/expr' },
      },
      required: ['name', 'expression'],
      $defs: {
        expr: {
          oneOf: [
            { type: 'number' },
            {
              type: 'object',
              properties: { op: { enum: ['+', '*'] }, args: { $ref: '#/$defs/args' } },
              required: ['op', 'args'],
              additionalProperties: false,
            },
          ],
        },
        args: { type: 'array', items: { $ref: '#/$defs/expr' }, minItems: 2, maxItems: 2 },
      },
    },
    'numeric bounds': {
      type: 'object',
      properties: {
        tight: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 0.001 },
        point: { type: 'number', minimum: 2.5, maximum: 2.5 },
        negative: { type: 'integer', minimum: -1000, maximum: -990 },
        fractionalBounds: { type: 'integer', minimum: 0.5, exclusiveMaximum: 2 },
        exclusiveInt: { type: 'integer', exclusiveMinimum: 1.5, exclusiveMaximum: 4 },
        onlyMax: { type: 'number', maximum: -5 },
        onlyMin: { type: 'integer', minimum: 1_000_000 },
        bothMinimums: { type: 'integer', minimum: 3, exclusiveMinimum: 3, maximum: 4 },
        huge: { type: 'integer', minimum: -1e15, maximum: 1e15 },
      },
      required: ['tight', 'point', 'negative', 'fractionalBounds', 'exclusiveInt', 'onlyMax', 'onlyMin'],
      additionalProperties: false,
    },
    'string formats and lengths': {
      type: 'object',
      properties: {
        createdAt: { type: 'string', format: 'date-time' },
        birthday: { type: 'string', format: 'date' },
        email: { type: 'string', format: 'email' },
        id: { type: 'string', format: 'uuid' },
        at: { type: 'string', format: 'time' },
        host: { type: 'string', format: 'hostname' },
        ip: { type: 'string', format: 'ipv4' },
        ip6: { type: 'string', format: 'ipv6' },
        link: { type: 'string', format: 'uri' },
        wait: { type: 'string', format: 'duration' },
        exact: { type: 'string', minLength: 50, maxLength: 50 },
        empty: { type: 'string', maxLength: 0 },
        tiny: { type: 'string', maxLength: 3 },
        long: { type: 'string', minLength: 2000 },
      },
      required: ['createdAt', 'birthday', 'email', 'id', 'exact', 'empty', 'tiny', 'long'],
      additionalProperties: false,
    },
    'discriminated union (oneOf)': {
      type: 'object',
      properties: {
        shapes: {
          type: 'array',
          minItems: 1,
          items: {
            oneOf: [
              {
                type: 'object',
                properties: { kind: { const: 'circle' }, radius: { type: 'number', minimum: 0 } },
                required: ['kind', 'radius'],
                additionalProperties: false,
              },
              {
                type: 'object',
                properties: {
                  kind: { const: 'rect' },
                  width: { type: 'number', minimum: 0 },
                  height: { type: 'number', minimum: 0 },
                },
                required: ['kind', 'width', 'height'],
                additionalProperties: false,
              },
            ],
          },
        },
      },
      required: ['shapes'],
      additionalProperties: false,
    },
    'maps, any values and extra required names': {
      type: 'object',
      properties: {
        scores: { type: 'object', additionalProperties: { type: 'integer', minimum: 0, maximum: 10 } },
        anything: true,
        untyped: {},
      },
      required: ['scores', 'anything', 'untyped', 'extra'],
      additionalProperties: { type: 'boolean' },
    },
    'pydantic-style allOf wrapper': {
      type: 'object',
      properties: { pet: { allOf: [{ $ref: '#/$defs/Pet' }], description: 'the pet' } },
      required: ['pet'],
      $defs: { Pet: { type: 'string', enum: ['cat', 'dog'], title: 'Pet' } },
    },
  };

  it.each(Object.entries(schemas))('%s: values validate with ajv for 200 seeds', (name, schema) => {
    validValues(name, schema);
  });

  it('includes optional properties, as OpenAI strict mode does', () => {
    const schema = {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'integer' }, c: { type: 'boolean' } },
      required: ['a'],
    };
    for (const value of validValues('optional', schema)) expect(Object.keys(rec(value))).toEqual(['a', 'b', 'c']);
  });

  it('covers the choices: every enum value, both nullable branches, default array lengths 1..3', () => {
    const values = validValues('coverage', schemas['enums, const and nullable types']!).map(rec);
    expect(new Set(values.map((v) => v.status))).toEqual(new Set(['open', 'closed', 'pending']));
    expect(new Set(values.map((v) => v.priority))).toEqual(new Set([1, 2, 3, null]));
    expect(new Set(values.map((v) => typeof v.note))).toEqual(new Set(['string', 'object']));
    expect(new Set(values.map((v) => v.mixed))).toEqual(new Set(['a', null]));
    const tagLengths = validValues('lengths', schemas['array of objects']!).map((v) => (rec(v).tags as []).length);
    expect(new Set(tagLengths)).toEqual(new Set([1, 2, 3]));
  });

  it('recursive schemas produce nested values that still terminate', () => {
    const depth = (node: unknown): number =>
      1 + Math.max(0, ...(rec(node).children as unknown[]).map((child) => depth(child)));
    const depths = validValues('depth', schemas['$defs recursion (tree)']!).map(depth);
    expect(Math.max(...depths)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...depths)).toBeLessThanOrEqual(10);
  });

  it('uuids are version 4 with the RFC 4122 variant (ajv-formats does not check that)', () => {
    for (const value of validValues('uuid', { type: 'string', format: 'uuid' })) {
      expect(value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('refuses to build an oversized value instead of running out of memory', () => {
    const huge = {
      type: 'array',
      minItems: 1000,
      items: { type: 'array', minItems: 1000, items: { type: 'integer' } },
    };
    expect(() => generateJson(huge, new Prng(1))).toThrow(
      /^unsupported schema: .*limit of 1000000 .* at #\/items\/items$/,
    );
    const longStrings = { type: 'array', minItems: 100, items: { type: 'string', minLength: 20_000 } };
    expect(() => generateJson(longStrings, new Prng(1))).toThrow(/limit of 1000000/);
  });

  it('strings are short prose trimmed to the length limits', () => {
    for (const value of validValues('prose', { type: 'string' })) {
      expect(value).toMatch(/^[A-Z][a-z]*(?: [a-z]+){0,5}$/);
    }
  });

  it('is deterministic for a seed and varies between seeds', () => {
    const schema = schemas['array of objects']!;
    const at = (seed: number): string => JSON.stringify(generateJson(schema, new Prng(seed)));
    expect(at(17)).toBe(at(17));
    expect(new Set(Array.from({ length: 20 }, (_, seed) => at(seed))).size).toBe(20);
  });

  it('returns copies of const and enum values and leaves the schema untouched', () => {
    const schema = {
      type: 'object',
      properties: { c: { const: { deep: [1] } }, e: { enum: [{ x: 1 }] } },
      required: ['c', 'e'],
    };
    const before = JSON.stringify(schema);
    const value = rec(generateJson(schema, new Prng(1)));
    expect(value).toEqual({ c: { deep: [1] }, e: { x: 1 } });
    (rec(value.c).deep as number[]).push(2);
    expect(JSON.stringify(schema)).toBe(before);
  });

  it('keeps a property named __proto__ as data', () => {
    const schema = JSON.parse(
      '{"type":"object","properties":{"__proto__":{"type":"integer","minimum":7,"maximum":7}},"required":["__proto__"]}',
    ) as JsonSchema;
    const value = rec(generateJson(schema, new Prng(1)));
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toBe(7);
  });

  it.each<[string, JsonSchema, string, RegExp]>([
    [
      'minimum > maximum',
      { type: 'object', properties: { age: { type: 'integer', minimum: 10, maximum: 5 } } },
      '#/properties/age',
      /minimum 10 and maximum 5/,
    ],
    ['an unknown type', { type: 'object', properties: { x: { type: 'strin' } } }, '#/properties/x/type', /"strin"/],
    ['a nested unknown type', { type: 'array', items: { type: ['string', 'date'] } }, '#/items/type', /"date"/],
    ['no integer in range', { type: 'integer', minimum: 1.2, maximum: 1.8 }, '#', /no integer/],
    ['empty exclusive range', { type: 'number', exclusiveMinimum: 1, exclusiveMaximum: 1 }, '#', /no number/],
    ['minLength > maxLength', { type: 'string', minLength: 5, maxLength: 2 }, '#', /minLength 5 .*maxLength 2/],
    ['minItems > maxItems', { type: 'array', minItems: 4, maxItems: 1 }, '#', /minItems 4/],
    ['an unknown format', { type: 'string', format: 'credit-card' }, '#/format', /credit-card/],
    ['a format longer than maxLength', { type: 'string', format: 'uuid', maxLength: 10 }, '#', /maxLength 10/],
    ['pattern', { type: 'object', properties: { a: { type: 'string', pattern: '^a' } } }, '#/properties/a', /pattern/],
    ['an empty enum', { enum: [] }, '#/enum', /enum/],
    ['an enum without a value of the type', { type: 'string', enum: [1, 2] }, '#/enum', /no enum value/],
    ['the false schema', { type: 'object', properties: { a: false }, required: ['a'] }, '#/properties/a', /false/],
    ['a missing $ref target', { $ref: '#/$defs/missing' }, '#/$ref', /does not resolve/],
    ['a remote $ref', { $ref: 'https://example.com/s.json' }, '#/$ref', /not a local JSON pointer/],
    ['$ref with a sibling constraint', { $ref: '#/$defs/a', type: 'string', $defs: { a: {} } }, '#', /"type"/],
    [
      'a required name that additionalProperties forbids',
      { type: 'object', properties: {}, required: ['x'], additionalProperties: false },
      '#',
      /"x"/,
    ],
    [
      'recursion that cannot end',
      {
        $defs: { loop: { type: 'object', properties: { next: { $ref: '#/$defs/loop' } }, required: ['next'] } },
        $ref: '#/$defs/loop',
      },
      '#/$defs/loop/properties/next',
      /recurses/,
    ],
    [
      'a key that needs escaping',
      { type: 'object', properties: { 'a/b~c': { type: 'number', minimum: 2, maximum: 1 } } },
      '#/properties/a~1b~0c',
      /no number/,
    ],
    ['draft-04 boolean exclusiveMinimum', { type: 'number', exclusiveMinimum: true }, '#/exclusiveMinimum', /true/],
    ['unique items that run out', { type: 'array', items: { enum: ['a', 'b'] }, minItems: 3, uniqueItems: true }, '#', /distinct/], // prettier-ignore
  ])('throws for %s, naming the path', (_name, schema, path, reason) => {
    let error: unknown;
    try {
      generateJson(schema, new Prng(1));
    } catch (err) {
      error = err;
    }
    expect(UnsupportedSchemaError.is(error)).toBe(true);
    const message = (error as Error).message;
    expect(message.startsWith('unsupported schema:')).toBe(true);
    expect(message).toMatch(reason);
    expect(message.endsWith(` at ${path}`)).toBe(true);
    expect((error as UnsupportedSchemaError).schemaPath).toBe(path);
  });

  it('UnsupportedSchemaError.is recognises only its own errors', () => {
    expect(UnsupportedSchemaError.is(new UnsupportedSchemaError('x', '#'))).toBe(true);
    expect(UnsupportedSchemaError.is(new Error('unsupported schema: x at #'))).toBe(false);
    expect(UnsupportedSchemaError.is(null)).toBe(false);
  });
});
