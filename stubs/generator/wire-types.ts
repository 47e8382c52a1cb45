/**
 * Static check that a method's argument and result survive the wire: Temporal encodes them as JSON, so a
 * type that JSON cannot round-trip (functions, Map, Date, bigint, …) would arrive changed or fail at run time.
 */
import ts from 'typescript';

/** One part of a type that JSON cannot carry. */
export interface WireProblem {
  /** Where in the value, e.g. `input.items[]` or `output.when`. */
  path: string;
  /** The offending type as the checker prints it. */
  type: string;
  /** Why JSON cannot carry it. */
  reason: string;
}

/** Recursion stops here: deeper parts are not checked (recursive types are cut earlier by the visited set). */
const maxDepth = 12;

/** Built-in classes that JSON turns into something else (`{}`, a string) or cannot encode at all. */
const nonJsonBuiltins = new Set([
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Date',
  'RegExp',
  'Promise',
  'Error',
  'Buffer',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);

/**
 * Every part of `type` that is not JSON-serialisable, walking properties, index signatures, array and tuple
 * elements, unions and intersections. `any`, `unknown` and type parameters pass (nothing to detect).
 * A top-level `void`/`undefined` passes too: it is how a method says "no argument" or "no result".
 */
export function findWireProblems(checker: ts.TypeChecker, type: ts.Type, root: string): WireProblem[] {
  const problems: WireProblem[] = [];
  const visited = new Set<ts.Type>();
  const report = (t: ts.Type, path: string, reason: string): void => {
    problems.push({ path, type: checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation), reason });
  };

  const walk = (t: ts.Type, path: string, depth: number, optional: boolean): void => {
    if (depth > maxDepth || visited.has(t)) return;
    const flags = t.flags;
    if (flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Never | ts.TypeFlags.TypeParameter)) return;
    if (flags & ts.TypeFlags.BigIntLike) return report(t, path, 'bigint has no JSON form');
    if (flags & ts.TypeFlags.ESSymbolLike) return report(t, path, 'symbols have no JSON form');
    if (flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) {
      // Allowed as a union member (an optional field) or as the whole argument/result; alone it is dropped.
      if (!optional && depth > 0) report(t, path, 'a value that is always undefined is dropped by JSON');
      return;
    }
    if (t.isUnion()) {
      for (const member of t.types) walk(member, path, depth + 1, true);
      return;
    }
    if (t.isIntersection()) {
      for (const member of t.types) walk(member, path, depth + 1, optional);
      return;
    }
    if (!(flags & ts.TypeFlags.Object)) return; // string, number, boolean, null, literals, enums
    visited.add(t);
    if (t.getCallSignatures().length > 0 || t.getConstructSignatures().length > 0) {
      return report(t, path, 'functions are not JSON-serialisable');
    }
    const symbol = t.getSymbol();
    if (symbol && nonJsonBuiltins.has(symbol.getName())) {
      return report(t, path, `a ${symbol.getName()} does not survive JSON (use plain objects, arrays, strings)`);
    }
    if (checker.isArrayType(t)) {
      const [element] = checker.getTypeArguments(t as ts.TypeReference);
      if (element) walk(element, `${path}[]`, depth + 1, false);
      return;
    }
    if (checker.isTupleType(t)) {
      const ref = t as ts.TupleTypeReference;
      const elements = checker.getTypeArguments(ref).slice(0, ref.target.elementFlags.length);
      elements.forEach((element, i) => walk(element, `${path}[${i}]`, depth + 1, false));
      return;
    }
    if (symbol && symbol.flags & ts.SymbolFlags.Class) {
      return report(t, path, 'a class instance loses its prototype in JSON (use a plain object type)');
    }
    for (const property of t.getProperties()) {
      const optionalProperty = (property.flags & ts.SymbolFlags.Optional) !== 0;
      walk(checker.getTypeOfSymbol(property), `${path}.${property.getName()}`, depth + 1, optionalProperty);
    }
    for (const index of checker.getIndexInfosOfType(t)) {
      walk(index.type, `${path}[${checker.typeToString(index.keyType)}]`, depth + 1, true);
    }
  };

  walk(type, root, 0, false);
  return problems;
}
