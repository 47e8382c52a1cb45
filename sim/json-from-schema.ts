/**
 * Seeded JSON values that satisfy a JSON Schema (the OpenAI structured-output subset and more).
 * Pure functions of their inputs (no clock, no Math.random, no I/O), so outputs reproduce from a seed.
 */

import type { Prng } from './prng';
import { ALL_WORDS, capitalise, NOUNS, sentenceTokens } from './prose';

// ---------------------------------------------------------------------------------------------------------
// JSON values from a JSON Schema
// ---------------------------------------------------------------------------------------------------------

/** A JSON Schema subset (draft 2020-12 / OpenAI structured outputs subset). */
export type JsonSchema = { [key: string]: unknown };

const UNSUPPORTED_SCHEMA_BRAND: unique symbol = Symbol.for('nalar.sim.UnsupportedSchemaError');

/**
 * Thrown by {@link generateJson} for a schema it cannot satisfy. The message is
 * `unsupported schema: <reason> at <pointer>`, where the pointer is a URI-fragment JSON pointer into the schema
 * (`#` is the root, `#/properties/age`, or `#/$defs/node/...` below a `$ref`).
 */
export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
  readonly [UNSUPPORTED_SCHEMA_BRAND] = true;

  /**
   * @param reason what cannot be satisfied
   * @param schemaPath JSON pointer (URI fragment form) of the offending subschema
   */
  constructor(
    readonly reason: string,
    readonly schemaPath: string,
  ) {
    super(`unsupported schema: ${reason} at ${schemaPath}`);
  }

  /** True for an UnsupportedSchemaError, even one from another copy of this module (where instanceof fails). */
  static is(value: unknown): value is UnsupportedSchemaError {
    return isRecord(value) && value[UNSUPPORTED_SCHEMA_BRAND] === true;
  }
}

function fail(reason: string, path: string): never {
  throw new UnsupportedSchemaError(reason, path);
}

/**
 * Expansions of one `$ref` nested inside itself after which generation turns "minimal" (omit optional
 * properties, use minItems, prefer branches without `$ref`) so recursive schemas end.
 */
const SOFT_REF_DEPTH = 3;
/** Nested expansions of one `$ref` after which the recursion is declared endless. */
const HARD_REF_DEPTH = SOFT_REF_DEPTH + 8;
/** Guards against a schema that asks for an absurdly large value (the simulator serves untrusted requests). */
const MAX_STRING_LENGTH = 100_000;
const MAX_ARRAY_ITEMS = 10_000;
/**
 * Most values plus string characters one call may produce. Without it, nested `minItems` or a recursion
 * that fans out could make one request build an exponentially large value.
 */
const MAX_OUTPUT_SIZE = 1_000_000;
/** Attempts to draw an item not yet in a `uniqueItems` array before giving up on that slot. */
const UNIQUE_ATTEMPTS = 20;

/** Keywords with no effect on validity. Unknown keywords (`x-...`, `nullable`, `strict`) are ignored too. */
const COMBINATORS = new Set(['$ref', 'anyOf', 'oneOf', 'allOf']);
const VALIDATION_KEYWORDS = new Set([
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'format',
]);
/** Validation keywords this generator does not implement: rejecting them beats returning an invalid value. */
const UNSUPPORTED_KEYWORDS = new Set([
  'pattern',
  'patternProperties',
  'propertyNames',
  'minProperties',
  'maxProperties',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'minContains',
  'maxContains',
  'prefixItems',
  'unevaluatedItems',
  'unevaluatedProperties',
  'multipleOf',
  '$dynamicRef',
  '$recursiveRef',
]);

const JSON_TYPES = ['null', 'boolean', 'integer', 'number', 'string', 'array', 'object'] as const;
type JsonType = (typeof JSON_TYPES)[number];

function isJsonType(value: unknown): value is JsonType {
  return typeof value === 'string' && (JSON_TYPES as readonly string[]).includes(value);
}

function isRecord(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

interface GenContext {
  readonly root: JsonSchema;
  readonly prng: Prng;
  /** How many times each `$ref` is being expanded on the way from the root to the current subschema. */
  readonly refDepth: Map<string, number>;
  /** Values and string characters produced so far, checked against {@link MAX_OUTPUT_SIZE}. */
  size: number;
}

/**
 * A value valid against `schema`, deterministic for a given prng state. Supports: type (string, number,
 * integer, boolean, null, object, array, and type arrays like ["string","null"]), enum, const,
 * properties, required (OpenAI strict mode: always include all properties listed in properties; include
 * required ones always and optional ones too), additionalProperties, items, minItems/maxItems (default
 * 1..3 items), minimum/maximum/exclusiveMinimum/exclusiveMaximum, minLength/maxLength, anyOf/oneOf (pick
 * one branch), $ref to "#/$defs/..." or "#/definitions/..." (with a recursion depth limit so recursive
 * schemas terminate), description ignored. Strings are short prose (1..6 words) trimmed to
 * minLength/maxLength; string "format": "date-time" | "date" | "email" | "uuid" produce valid formats.
 * Throws a descriptive Error (message starts with "unsupported schema:" and names the JSON pointer path) for
 * anything it cannot satisfy, e.g. minimum > maximum, or an unknown type.
 *
 * Details beyond the above:
 * - `$ref` may be any local JSON pointer (`#`, `#/$defs/a`, `#/properties/x`). Once a `$ref` is nested three
 *   times inside itself, generation below it turns minimal: optional properties are left out, arrays get
 *   minItems items, and union branches and types that do not need a `$ref` are preferred. Recursion that
 *   cannot end (a required self-reference) throws.
 * - Also supported: formats time, duration, hostname, ipv4, ipv6 and uri; `uniqueItems: true`; `allOf` with a
 *   single subschema; `additionalProperties` schemas (used for required names missing from properties, and
 *   for 1..3 entries of a map-like object with no properties); `true` / `{}` (any value: a short string).
 * - `oneOf` branches are assumed disjoint (as in discriminated unions); no check that only one matches.
 * - `enum` and `const` values are returned as deep copies and checked against `type` only.
 * - Throws (UnsupportedSchemaError) on: pattern, multipleOf, not, if/then/else, prefixItems and the other
 *   keywords this subset does not implement; `$ref`/`anyOf`/`oneOf`/`allOf` next to other validation
 *   keywords; non-local or unresolvable `$ref`; unknown formats; minLength above 100 000, minItems above
 *   10 000, or a value of more than 1 000 000 values plus string characters in all; bounds, lengths or item
 *   counts no value can meet.
 */
export function generateJson(schema: JsonSchema, prng: Prng): unknown {
  return generate({ root: schema, prng, refDepth: new Map(), size: 0 }, schema, '#', false);
}

/**
 * @param path JSON pointer of `schema`, for error messages
 * @param minimal true below a deeply recursive `$ref`: choose the smallest value so recursion ends
 */
function generate(ctx: GenContext, schema: unknown, path: string, minimal: boolean): unknown {
  spend(ctx, 1, path);
  if (schema === true) return shortProse(ctx.prng, 0, Infinity);
  if (schema === false) fail('the schema false accepts no value', path);
  if (!isRecord(schema)) fail(`expected a schema object or boolean, got ${describe(schema)}`, path);
  const combinator = checkKeywords(schema, path);
  if (Object.hasOwn(schema, 'const')) return constValue(schema, path);
  if (schema.enum !== undefined) return enumValue(ctx, schema, path);
  switch (combinator) {
    case '$ref':
      return generateRef(ctx, schema.$ref, path, minimal);
    case 'anyOf':
    case 'oneOf':
      return generateBranch(ctx, schema[combinator], `${path}/${combinator}`, minimal);
    case 'allOf':
      return generateAllOf(ctx, schema.allOf, path, minimal);
  }
  const type = chooseType(ctx, schema, path, minimal);
  switch (type) {
    case 'null':
      return null;
    case 'boolean':
      return ctx.prng.next() < 0.5;
    case 'integer':
      return generateInteger(ctx.prng, schema, path);
    case 'number':
      return generateNumber(ctx.prng, schema, path);
    case 'string': {
      const text = generateString(ctx.prng, schema, path);
      spend(ctx, text.length, path);
      return text;
    }
    case 'array':
      return generateArray(ctx, schema, path, minimal);
    case 'object':
      return generateObject(ctx, schema, path, minimal);
    case undefined:
      return shortProse(ctx.prng, 0, Infinity);
  }
}

function spend(ctx: GenContext, size: number, path: string): void {
  ctx.size += size;
  if (ctx.size > MAX_OUTPUT_SIZE) {
    fail(`the value would exceed the simulator's limit of ${MAX_OUTPUT_SIZE} values and string characters`, path);
  }
}

/**
 * Rejects keywords this subset does not implement and combinators mixed with other validation keywords
 * (their intersection would need a solver). Returns the combinator, if any.
 */
function checkKeywords(schema: Record<PropertyKey, unknown>, path: string): string | undefined {
  let combinator: string | undefined;
  let validation: string | undefined;
  for (const key of Object.keys(schema)) {
    if (UNSUPPORTED_KEYWORDS.has(key)) fail(`keyword "${key}" is not supported`, path);
    if (COMBINATORS.has(key)) {
      if (combinator !== undefined) fail(`"${combinator}" together with "${key}" is not supported`, path);
      combinator = key;
    } else if (VALIDATION_KEYWORDS.has(key)) {
      validation ??= key;
    }
  }
  if (combinator !== undefined && validation !== undefined) {
    fail(`"${combinator}" next to "${validation}" is not supported`, path);
  }
  return combinator;
}

/** The declared types, validated; undefined when the schema has no `type`. */
function declaredTypes(schema: Record<PropertyKey, unknown>, path: string): JsonType[] | undefined {
  const type = schema.type;
  if (type === undefined) return undefined;
  const list: unknown[] = Array.isArray(type) ? type : [type];
  if (list.length === 0) fail('type is an empty array', `${path}/type`);
  for (const item of list) {
    if (!isJsonType(item)) fail(`unknown type ${describe(item)}`, `${path}/type`);
  }
  return list as JsonType[];
}

/** The type a schema without `type` describes, judged by its keywords; undefined means any value. */
function inferredType(schema: Record<PropertyKey, unknown>): JsonType | undefined {
  const has = (...keys: string[]): boolean => keys.some((key) => schema[key] !== undefined);
  if (has('properties', 'required', 'additionalProperties')) return 'object';
  if (has('items', 'minItems', 'maxItems', 'uniqueItems')) return 'array';
  if (has('minLength', 'maxLength', 'format')) return 'string';
  if (has('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum')) return 'number';
  return undefined;
}

function matchesType(value: unknown, type: JsonType): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
    default:
      return typeof value === type;
  }
}

function constValue(schema: Record<PropertyKey, unknown>, path: string): unknown {
  const types = declaredTypes(schema, path);
  if (types !== undefined && !types.some((type) => matchesType(schema.const, type))) {
    fail(`const ${describe(schema.const)} does not match type ${describe(schema.type)}`, path);
  }
  // A copy, so a caller that edits the value cannot edit the schema.
  return structuredClone(schema.const);
}

function enumValue(ctx: GenContext, schema: Record<PropertyKey, unknown>, path: string): unknown {
  if (!Array.isArray(schema.enum) || schema.enum.length === 0) fail('enum must be a non-empty array', `${path}/enum`);
  const types = declaredTypes(schema, path);
  const allowed = types === undefined ? schema.enum : schema.enum.filter((v) => types.some((t) => matchesType(v, t)));
  if (allowed.length === 0) fail(`no enum value matches type ${describe(schema.type)}`, `${path}/enum`);
  return structuredClone(ctx.prng.pick(allowed));
}

/**
 * Picks one of the allowed types. Below a deep recursion it prefers types that can end without a `$ref`, and
 * of those the smallest (null, then scalars, then containers).
 */
function chooseType(
  ctx: GenContext,
  schema: Record<PropertyKey, unknown>,
  path: string,
  minimal: boolean,
): JsonType | undefined {
  const types = declaredTypes(schema, path);
  if (types === undefined) return inferredType(schema);
  if (!minimal) return ctx.prng.pick(types);
  const ranked = [...types].sort((a, b) => JSON_TYPES.indexOf(a) - JSON_TYPES.indexOf(b));
  return ranked.find((type) => !typeNeedsRef(type, schema, 0)) ?? ranked[0];
}

function generateBranch(ctx: GenContext, branches: unknown, path: string, minimal: boolean): unknown {
  if (!Array.isArray(branches) || branches.length === 0) fail('expected a non-empty array of schemas', path);
  let indices = branches.map((_, index) => index);
  if (minimal) {
    const ending = indices.filter((index) => !needsRef(branches[index], 0));
    if (ending.length > 0) indices = ending;
  }
  const index = ctx.prng.pick(indices);
  return generate(ctx, branches[index], `${path}/${index}`, minimal);
}

function generateAllOf(ctx: GenContext, branches: unknown, path: string, minimal: boolean): unknown {
  if (!Array.isArray(branches) || branches.length !== 1) {
    fail('allOf is supported only with exactly one subschema', `${path}/allOf`);
  }
  return generate(ctx, branches[0], `${path}/allOf/0`, minimal);
}

function generateRef(ctx: GenContext, ref: unknown, path: string, minimal: boolean): unknown {
  if (typeof ref !== 'string') fail('$ref must be a string', `${path}/$ref`);
  const target = resolveRef(ctx.root, ref, path);
  const depth = ctx.refDepth.get(ref) ?? 0;
  if (depth >= HARD_REF_DEPTH) {
    fail(`$ref "${ref}" recurses ${HARD_REF_DEPTH} times without reaching a value that ends the recursion`, path);
  }
  ctx.refDepth.set(ref, depth + 1);
  try {
    return generate(ctx, target, ref, minimal || depth + 1 >= SOFT_REF_DEPTH);
  } finally {
    ctx.refDepth.set(ref, depth);
  }
}

/** Resolves a local JSON pointer reference (`#`, `#/$defs/name`, any `#/...` path) against the root schema. */
function resolveRef(root: JsonSchema, ref: string, path: string): unknown {
  if (ref !== '#' && !ref.startsWith('#/')) {
    fail(`$ref ${describe(ref)} is not a local JSON pointer ("#/$defs/..." or "#/definitions/...")`, `${path}/$ref`);
  }
  let node: unknown = root;
  for (const raw of ref === '#' ? [] : ref.slice(2).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      fail(`$ref ${describe(ref)} is not a valid URI fragment`, `${path}/$ref`);
    }
    const container: unknown = node;
    const ok = (isRecord(container) || Array.isArray(container)) && Object.hasOwn(container, segment);
    if (!ok) fail(`$ref ${describe(ref)} does not resolve`, `${path}/$ref`);
    node = (container as Record<string, unknown>)[segment];
  }
  return node;
}

/** Caches {@link needsRef} per schema object; schemas are treated as immutable while generating. */
const needsRefCache = new WeakMap<object, boolean>();
/** Nesting below which {@link needsRef} gives up (only a cyclic in-memory schema object gets that deep). */
const MAX_SCHEMA_NESTING = 64;

/**
 * Whether every minimal value of `schema` (no optional properties, minItems items) must expand a `$ref`.
 * Used below a deep recursion to pick the union branches and types that let the recursion end.
 */
function needsRef(schema: unknown, nesting: number): boolean {
  if (!isRecord(schema) || nesting > MAX_SCHEMA_NESTING) return false;
  const cached = needsRefCache.get(schema);
  if (cached !== undefined) return cached;
  let result: boolean;
  if (Object.hasOwn(schema, 'const') || schema.enum !== undefined) result = false;
  else if (schema.$ref !== undefined) result = true;
  else if (Array.isArray(schema.anyOf)) result = schema.anyOf.every((branch) => needsRef(branch, nesting + 1));
  else if (Array.isArray(schema.oneOf)) result = schema.oneOf.every((branch) => needsRef(branch, nesting + 1));
  else if (Array.isArray(schema.allOf)) result = schema.allOf.some((branch) => needsRef(branch, nesting + 1));
  else {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? inferredType(schema)];
    result = !types.some((type) => !isJsonType(type) || !typeNeedsRef(type, schema, nesting));
  }
  needsRefCache.set(schema, result);
  return result;
}

function typeNeedsRef(type: JsonType, schema: Record<PropertyKey, unknown>, nesting: number): boolean {
  if (type === 'array') {
    const minItems = typeof schema.minItems === 'number' ? schema.minItems : 0;
    return minItems > 0 && needsRef(schema.items, nesting + 1);
  }
  if (type !== 'object' || !Array.isArray(schema.required)) return false;
  const properties = isRecord(schema.properties) ? schema.properties : {};
  return schema.required.some((key) => {
    const sub = typeof key === 'string' && Object.hasOwn(properties, key) ? properties[key] : undefined;
    return needsRef(sub ?? schema.additionalProperties, nesting + 1);
  });
}

// --- numbers ---

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

function readNumber(schema: Record<PropertyKey, unknown>, key: string, path: string): number | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(`${key} must be a finite number (draft 2020-12), got ${describe(value)}`, `${path}/${key}`);
  }
  return value;
}

/** The tighter of an inclusive and an exclusive bound on one side; `sign` is 1 for lower, -1 for upper. */
function tighter(inclusive: number | undefined, exclusive: number | undefined, sign: number): Bound | undefined {
  if (exclusive !== undefined && (inclusive === undefined || sign * (exclusive - inclusive) >= 0)) {
    return { value: exclusive, exclusive: true };
  }
  return inclusive === undefined ? undefined : { value: inclusive, exclusive: false };
}

function numericBounds(schema: Record<PropertyKey, unknown>, path: string): [Bound | undefined, Bound | undefined] {
  const lower = tighter(readNumber(schema, 'minimum', path), readNumber(schema, 'exclusiveMinimum', path), 1);
  const upper = tighter(readNumber(schema, 'maximum', path), readNumber(schema, 'exclusiveMaximum', path), -1);
  return [lower, upper];
}

/** "minimum 10 and maximum 5": the bound keywords present, for error messages. */
function describeBounds(schema: Record<PropertyKey, unknown>): string {
  return ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum']
    .filter((key) => schema[key] !== undefined)
    .map((key) => `${key} ${describe(schema[key])}`)
    .join(' and ');
}

/** Values drawn when a side is unbounded: a plausible range next to the bound that is given. */
const DEFAULT_INTEGER_SPAN = 100;
const DEFAULT_NUMBER_SPAN = 1000;

function generateInteger(prng: Prng, schema: Record<PropertyKey, unknown>, path: string): number {
  const [lower, upper] = numericBounds(schema, path);
  let lo = lower && (lower.exclusive ? Math.floor(lower.value) + 1 : Math.ceil(lower.value));
  let hi = upper && (upper.exclusive ? Math.ceil(upper.value) - 1 : Math.floor(upper.value));
  if (lo === undefined) lo = hi === undefined ? 0 : hi - DEFAULT_INTEGER_SPAN;
  if (hi === undefined) hi = lo + DEFAULT_INTEGER_SPAN;
  if (lo > hi) fail(`no integer satisfies ${describeBounds(schema)}`, path);
  return prng.int(lo, hi);
}

function generateNumber(prng: Prng, schema: Record<PropertyKey, unknown>, path: string): number {
  const [lower, upper] = numericBounds(schema, path);
  const lo = lower?.value ?? (upper === undefined ? 0 : upper.value - DEFAULT_NUMBER_SPAN);
  const hi = upper?.value ?? lo + DEFAULT_NUMBER_SPAN;
  const valid = (x: number): boolean =>
    Number.isFinite(x) &&
    (lower === undefined || (lower.exclusive ? x > lower.value : x >= lower.value)) &&
    (upper === undefined || (upper.exclusive ? x < upper.value : x <= upper.value));
  const drawn = lo + prng.next() * (hi - lo);
  // Two decimals read like real data; fall back to the raw draw, then the midpoint, when rounding or an
  // exclusive bound gets in the way.
  const candidates = [Math.round(drawn * 100) / 100, drawn, lo / 2 + hi / 2, lo];
  const value = candidates.find(valid);
  if (value === undefined) fail(`no number satisfies ${describeBounds(schema)}`, path);
  return value;
}

// --- strings ---

function readCount(schema: Record<PropertyKey, unknown>, key: string, path: string): number | undefined {
  const value = schema[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    fail(`${key} must be a non-negative integer, got ${describe(value)}`, `${path}/${key}`);
  }
  return value;
}

/** Reads a min/max count pair, checking min <= max and min <= `cap`. */
function readRange(
  schema: Record<PropertyKey, unknown>,
  [minKey, maxKey]: [string, string],
  cap: number,
  path: string,
): [number, number] {
  const min = readCount(schema, minKey, path) ?? 0;
  const max = readCount(schema, maxKey, path) ?? Infinity;
  if (min > max) fail(`${minKey} ${min} is greater than ${maxKey} ${max}`, path);
  if (min > cap) fail(`${minKey} ${min} is above the simulator's limit of ${cap}`, path);
  return [min, max];
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const hex = (prng: Prng, digits: number): string =>
  Array.from({ length: digits }, () => prng.int(0, 15).toString(16)).join('');

function randomDate(prng: Prng): string {
  // Day 28 at most: valid in every month, so no calendar arithmetic is needed.
  return `${prng.int(2000, 2030)}-${pad2(prng.int(1, 12))}-${pad2(prng.int(1, 28))}`;
}

function randomTime(prng: Prng): string {
  return `${pad2(prng.int(0, 23))}:${pad2(prng.int(0, 59))}:${pad2(prng.int(0, 59))}`;
}

/** Generators for string formats, all valid under ajv-formats' full mode. */
const FORMATS: ReadonlyMap<string, (prng: Prng) => string> = new Map([
  ['date-time', (p: Prng) => `${randomDate(p)}T${randomTime(p)}Z`],
  ['date', randomDate],
  ['time', (p: Prng) => `${randomTime(p)}Z`],
  ['duration', (p: Prng) => `P${p.int(0, 30)}DT${p.int(0, 23)}H${p.int(0, 59)}M`],
  ['email', (p: Prng) => `${p.pick(NOUNS)}.${p.pick(NOUNS)}@example.com`],
  ['hostname', (p: Prng) => `${p.pick(NOUNS)}.example.com`],
  ['uri', (p: Prng) => `https://example.com/${p.pick(NOUNS)}/${p.pick(NOUNS)}`],
  ['ipv4', (p: Prng) => `10.${p.int(0, 255)}.${p.int(0, 255)}.${p.int(1, 254)}`],
  ['ipv6', (p: Prng) => `fd00:${Array.from({ length: 7 }, () => p.int(0, 0xffff).toString(16)).join(':')}`],
  // Version 4, RFC 4122 variant (8, 9, a or b).
  [
    'uuid',
    (p: Prng) => `${hex(p, 8)}-${hex(p, 4)}-4${hex(p, 3)}-${'89ab'.charAt(p.int(0, 3))}${hex(p, 3)}-${hex(p, 12)}`,
  ],
]);

function generateString(prng: Prng, schema: Record<PropertyKey, unknown>, path: string): string {
  const [minLength, maxLength] = readRange(schema, ['minLength', 'maxLength'], MAX_STRING_LENGTH, path);
  const format = schema.format;
  if (format === undefined) return shortProse(prng, minLength, maxLength);
  const make = typeof format === 'string' ? FORMATS.get(format) : undefined;
  if (make === undefined) fail(`format ${describe(format)} is not supported`, `${path}/format`);
  const value = make(prng);
  if (value.length < minLength || value.length > maxLength) {
    fail(`format "${String(format)}" values do not fit minLength ${minLength} / maxLength ${maxLength}`, path);
  }
  return value;
}

/**
 * 1 to 6 words of prose, capitalised, padded with more words up to `minLength` and cut at `maxLength`.
 * Lengths count code points, as JSON Schema does; the vocabulary is ASCII, so UTF-16 length equals it.
 */
function shortProse(prng: Prng, minLength: number, maxLength: number): string {
  const tokens = sentenceTokens(prng, prng.int(1, 6)).filter((token) => token !== ',');
  const parts = [capitalise(tokens.join(' '))];
  let length = parts[0]?.length ?? 0;
  while (length < minLength) {
    const word = prng.pick(NOUNS);
    parts.push(word);
    length += word.length + 1;
  }
  let text = parts.join(' ');
  if (text.length > maxLength) {
    text = text.slice(0, maxLength);
    // Do not end on a dangling space unless that would make the string too short.
    if (text.endsWith(' ') && text.length - 1 >= minLength) text = text.slice(0, -1);
  }
  return text;
}

// --- arrays and objects ---

function generateArray(
  ctx: GenContext,
  schema: Record<PropertyKey, unknown>,
  path: string,
  minimal: boolean,
): unknown[] {
  const [minItems, maxItems] = readRange(schema, ['minItems', 'maxItems'], MAX_ARRAY_ITEMS, path);
  const items = schema.items ?? true;
  if (Array.isArray(items)) fail('items as an array (draft-07 tuples) is not supported', `${path}/items`);
  if (items === false && minItems > 0) fail(`items is false but minItems is ${minItems}`, path);
  const unique = schema.uniqueItems;
  if (unique !== undefined && typeof unique !== 'boolean') fail('uniqueItems must be a boolean', path);
  // Default 1..3 items, moved up to minItems and down to maxItems.
  const low = Math.min(Math.max(minItems, 1), maxItems);
  const count = minimal || items === false ? minItems : ctx.prng.int(low, Math.min(maxItems, low + 2));
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (let slot = 0; slot < count; slot++) {
    if (!unique) {
      out.push(generate(ctx, items, `${path}/items`, minimal));
      continue;
    }
    const found = uniqueItem(ctx, items, `${path}/items`, minimal, seen);
    if (found === undefined) {
      if (out.length >= minItems) break;
      fail(`cannot generate ${minItems} distinct items for uniqueItems`, path);
    }
    out.push(found.value);
  }
  return out;
}

/** An item not yet in `seen` (compared as JSON text), or undefined after {@link UNIQUE_ATTEMPTS} tries. */
function uniqueItem(
  ctx: GenContext,
  items: unknown,
  path: string,
  minimal: boolean,
  seen: Set<string>,
): { value: unknown } | undefined {
  for (let attempt = 0; attempt < UNIQUE_ATTEMPTS; attempt++) {
    const value = generate(ctx, items, path, minimal);
    // Items of one schema are generated with the same key order, so equal values give equal JSON text.
    const key = JSON.stringify(value);
    if (!seen.has(key)) {
      seen.add(key);
      return { value };
    }
  }
  return undefined;
}

function readProperties(schema: Record<PropertyKey, unknown>, path: string): Record<string, unknown> {
  const properties = schema.properties ?? {};
  if (!isRecord(properties)) fail('properties must be an object', `${path}/properties`);
  return properties as Record<string, unknown>;
}

function readRequired(schema: Record<PropertyKey, unknown>, path: string): string[] {
  const required = schema.required ?? [];
  if (!Array.isArray(required) || !required.every((key): key is string => typeof key === 'string')) {
    fail('required must be an array of strings', `${path}/required`);
  }
  return required;
}

function generateObject(
  ctx: GenContext,
  schema: Record<PropertyKey, unknown>,
  path: string,
  minimal: boolean,
): Record<string, unknown> {
  const properties = readProperties(schema, path);
  const required = new Set(readRequired(schema, path));
  const additional = schema.additionalProperties ?? true;
  if (typeof additional !== 'boolean' && !isRecord(additional)) {
    fail('additionalProperties must be a boolean or a schema', `${path}/additionalProperties`);
  }
  const entries: [string, unknown][] = [];
  // OpenAI strict mode: every listed property appears, optional or not (except when ending a recursion).
  for (const [key, sub] of Object.entries(properties)) {
    if (minimal && !required.has(key)) continue;
    entries.push([key, generate(ctx, sub, `${path}/properties/${escapePointer(key)}`, minimal)]);
  }
  for (const key of required) {
    if (Object.hasOwn(properties, key)) continue;
    if (additional === false) {
      fail(`required property "${key}" is not in properties and additionalProperties is false`, path);
    }
    entries.push([key, generate(ctx, additional, `${path}/additionalProperties`, minimal)]);
  }
  if (!minimal && entries.length === 0 && isRecord(additional)) {
    entries.push(...mapEntries(ctx, additional, `${path}/additionalProperties`));
  }
  // fromEntries defines own properties, so a property named "__proto__" stays data, not a prototype.
  return Object.fromEntries(entries);
}

/** 1 to 3 entries with distinct word keys, for a map-like object (`additionalProperties` schema only). */
function mapEntries(ctx: GenContext, valueSchema: Record<PropertyKey, unknown>, path: string): [string, unknown][] {
  const count = ctx.prng.int(1, 3);
  const keys = new Set<string>();
  while (keys.size < count) keys.add(ctx.prng.pick(ALL_WORDS));
  return [...keys].map((key) => [key, generate(ctx, valueSchema, path, false)]);
}
