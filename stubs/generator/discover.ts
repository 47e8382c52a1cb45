/**
 * Finds `defineAgent`/`defineTool` definitions in source with the TypeScript compiler API and reads them
 * statically: the generator never runs definition code (it may need secrets, models or network).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { checkDefinitionSettings, definitionNamePattern } from '../define';
import type { StubSpec } from '../workflow/types';
import { findWireProblems } from './wire-types';

/** One problem in a definition file; `line` and `col` are 1-based. */
export interface Diagnostic {
  /** Repo-relative posix path. */
  file: string;
  line: number;
  col: number;
  message: string;
}

/** A JSON value read from a literal in source. */
export type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

/** One method of a definition with its wire types as the checker prints them. */
export interface MethodInfo {
  name: string;
  /** The parameter type, `void` when the method takes none. */
  input: string;
  /** The awaited return type. */
  output: string;
}

/** Directives with the defaults of `stubs/define.ts` filled in (the shape stubs carry). */
export type DirectivesInfo = StubSpec['directives'];

/** A definition as read from source, checked and with defaults filled in by `stubs/define.ts`'s own schema. */
export interface DefinitionInfo {
  kind: 'agent' | 'tool';
  name: string;
  /** Absolute path of the definition file. */
  file: string;
  /** Repo-relative posix path of the definition file. */
  definitionFile: string;
  /** Name under which the module exports the definition. */
  exportName: string;
  /** Where the define call is, for messages. */
  position: Omit<Diagnostic, 'message'>;
  taskQueue?: string;
  /** @default `defaultStartToCloseTimeout` of stubs/define.ts */
  startToCloseTimeout: string | number;
  heartbeatTimeout?: string | number;
  retry?: { [key: string]: Literal };
  directives: DirectivesInfo;
  /** Sorted by name. */
  methods: MethodInfo[];
}

/** What {@link discoverDefinitions} found; definitions are only complete when `diagnostics` is empty. */
export interface DiscoveryResult {
  definitions: DefinitionInfo[];
  diagnostics: Diagnostic[];
  /** Absolute paths of the repo's source files the definitions were read from (their imports included, no packages). */
  sourceFiles: string[];
}

/** Definition files under `dir` (recursively), sorted; tests and barrels are not definitions. */
export function listDefinitionFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts'))
    .filter((f) => path.basename(f) !== 'index.ts')
    .map((f) => path.join(dir, f))
    .sort();
}

/** Repo-relative posix path, as printed in messages and the manifest. */
export function repoPath(repoRoot: string, file: string): string {
  return path.relative(repoRoot, file).split(path.sep).join('/');
}

function compilerOptions(repoRoot: string): ts.CompilerOptions {
  const configPath = path.join(repoRoot, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (read.error) return { strict: true, noEmit: true };
  return { ...ts.parseJsonConfigFileContent(read.config, ts.sys, repoRoot).options, noEmit: true };
}

function unwrap(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return e;
}

function staticName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) ? name.text : undefined;
}

/**
 * Reads every definition in the `.ts` files under `definitionsDir`, type-checking them with the repo's
 * tsconfig options. Problems are collected, never thrown, so that all of them can be reported at once.
 */
export function discoverDefinitions(options: { repoRoot: string; definitionsDir: string }): DiscoveryResult {
  const { repoRoot } = options;
  const files = listDefinitionFiles(options.definitionsDir);
  const program = ts.createProgram({ rootNames: files, options: compilerOptions(repoRoot) });
  const checker = program.getTypeChecker();
  const defineModule = path.resolve(repoRoot, 'stubs', 'define.ts');
  const definitions: DefinitionInfo[] = [];
  const diagnostics: Diagnostic[] = [];

  const where = (node: ts.Node): Omit<Diagnostic, 'message'> => {
    const sf = node.getSourceFile();
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    return { file: repoPath(repoRoot, sf.fileName), line: line + 1, col: character + 1 };
  };
  const error = (node: ts.Node, message: string): void => {
    diagnostics.push({ ...where(node), message });
  };

  /** `agent`/`tool` when the call's callee resolves to defineAgent/defineTool of stubs/define.ts. */
  const defineKind = (call: ts.CallExpression): 'agent' | 'tool' | undefined => {
    let symbol = checker.getSymbolAtLocation(call.expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const fromDefine = symbol?.declarations?.some(
      (d) => ts.isFunctionDeclaration(d) && path.resolve(d.getSourceFile().fileName) === defineModule,
    );
    if (!fromDefine) return undefined;
    return symbol?.name === 'defineAgent' ? 'agent' : symbol?.name === 'defineTool' ? 'tool' : undefined;
  };

  /** Reads a literal (recursively for objects and arrays); reports and returns undefined otherwise. */
  const literal = (expr: ts.Expression, what: string): Literal | undefined => {
    const e = unwrap(expr);
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
    if (ts.isNumericLiteral(e)) return Number(e.text);
    if (ts.isPrefixUnaryExpression(e) && e.operator === ts.SyntaxKind.MinusToken && ts.isNumericLiteral(e.operand)) {
      return -Number(e.operand.text);
    }
    if (e.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (e.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (e.kind === ts.SyntaxKind.NullKeyword) return null;
    if (ts.isArrayLiteralExpression(e)) {
      const values = e.elements.map((el, i) => literal(el, `${what}[${i}]`));
      return values.every((v) => v !== undefined) ? (values as Literal[]) : undefined;
    }
    if (ts.isObjectLiteralExpression(e)) {
      const out: { [key: string]: Literal } = {};
      let ok = true;
      for (const p of e.properties) {
        const key = p.name && staticName(p.name);
        if (!ts.isPropertyAssignment(p) || key === undefined) {
          error(p, `${what} must be an object literal of plain \`key: literal\` properties`);
          ok = false;
          continue;
        }
        const v = literal(p.initializer, `${what}.${key}`);
        if (v === undefined) ok = false;
        else out[key] = v;
      }
      return ok ? out : undefined;
    }
    const text = e.getText().replace(/\s+/g, ' ');
    error(
      e,
      `${what} must be a literal, not \`${text.length > 60 ? `${text.slice(0, 57)}...` : text}\` ` +
        '(definitions are read without running them)',
    );
    return undefined;
  };

  const readDefinition = (call: ts.CallExpression, kind: 'agent' | 'tool', exportName: string): void => {
    const arg = call.arguments[0] && unwrap(call.arguments[0]);
    if (call.arguments.length !== 1 || !arg || !ts.isObjectLiteralExpression(arg)) {
      return error(call, `define${kind === 'agent' ? 'Agent' : 'Tool'}(...) must be given one object literal`);
    }
    const fields = new Map<string, ts.ObjectLiteralElementLike>();
    for (const p of arg.properties) {
      const key = p.name && staticName(p.name);
      if (key === undefined) error(p, `${kind}: spread and computed properties cannot be read statically`);
      else fields.set(key, p);
    }
    const value = (key: string): ts.Expression | undefined => {
      const p = fields.get(key);
      if (p && !ts.isPropertyAssignment(p)) error(p, `${kind}: \`${key}\` must be written as \`${key}: <literal>\``);
      return p && ts.isPropertyAssignment(p) ? p.initializer : undefined;
    };

    const before = diagnostics.length;
    const nameExpr = value('name');
    const name = nameExpr ? literal(nameExpr, `${kind}: name`) : undefined;
    if (!fields.has('name')) return error(call, `${kind}: \`name\` is required`);
    if (!nameExpr) return; // already reported: not a plain property
    if (name === undefined) return;
    if (typeof name !== 'string' || !definitionNamePattern.test(name)) {
      return error(
        nameExpr,
        `${kind}: name must be a string that starts with a letter and uses only letters, digits, - and _`,
      );
    }
    if (name === 'index' || !isValidStubIdentifier(stubIdentifier(name))) {
      return error(nameExpr, `${kind}: the name \`${name}\` cannot name a generated file and const (reserved)`);
    }
    const label = `${kind} \`${name}\``;

    // The same schema as defineAgent/defineTool checks these fields and fills in their defaults.
    const settingsRead: { [key: string]: Literal } = {};
    for (const key of ['taskQueue', 'startToCloseTimeout', 'heartbeatTimeout', 'retry', 'directives']) {
      const expr = value(key);
      const v = expr && literal(expr, `${label}: ${key}`);
      if (v !== undefined) settingsRead[key] = v;
    }
    const unreadable = diagnostics.length > before;
    const methods = readMethods(value('methods'), label, call);
    if (unreadable) return;
    const checked = checkDefinitionSettings(settingsRead);
    if (!checked.ok) {
      for (const p of checked.problems) {
        const option = p.path.split('.')[0] ?? '';
        error(value(option) ?? call, `${label}: ${p.unknownKeys ? p.message : `${p.path} ${p.message}`}`);
      }
    }
    if (!checked.ok || !methods || diagnostics.length > before) return;
    const { taskQueue, startToCloseTimeout, heartbeatTimeout, retry, directives } = checked.settings;

    definitions.push({
      kind,
      name,
      file: path.resolve(call.getSourceFile().fileName),
      definitionFile: repoPath(repoRoot, call.getSourceFile().fileName),
      exportName,
      position: where(call),
      ...(taskQueue !== undefined ? { taskQueue } : {}),
      startToCloseTimeout,
      ...(heartbeatTimeout !== undefined ? { heartbeatTimeout } : {}),
      ...(retry !== undefined ? { retry: settingsRead.retry as { [key: string]: Literal } } : {}),
      directives,
      methods,
    });
  };

  const readMethods = (expr: ts.Expression | undefined, label: string, call: ts.Node): MethodInfo[] | undefined => {
    const e = expr && unwrap(expr);
    if (!e || !ts.isObjectLiteralExpression(e) || e.properties.length === 0) {
      error(e ?? call, `${label}: methods must be an object literal holding at least one method`);
      return undefined;
    }
    const methods: MethodInfo[] = [];
    for (const p of e.properties) {
      const name = p.name && staticName(p.name);
      if (
        name === undefined ||
        !(ts.isMethodDeclaration(p) || ts.isPropertyAssignment(p) || ts.isShorthandPropertyAssignment(p))
      ) {
        error(p, `${label}: each method must be \`name(input) {...}\` or \`name: <function>\` with a plain name`);
        continue;
      }
      const method = `${label}, method \`${name}\``;
      if (!definitionNamePattern.test(name)) {
        error(p.name, `${method}: method names must start with a letter and use only letters, digits, - and _`);
        continue;
      }
      const signatures = ts.isMethodDeclaration(p)
        ? [checker.getSignatureFromDeclaration(p)].filter((s) => s !== undefined)
        : checker.getTypeAtLocation(ts.isPropertyAssignment(p) ? p.initializer : p.name).getCallSignatures();
      const [signature] = signatures;
      if (!signature || signatures.length > 1) {
        error(p.name, `${method}: must be a function with a single call signature`);
        continue;
      }
      const params = signature.getParameters();
      const rest = signature.getDeclaration()?.parameters.some((d) => d.dotDotDotToken);
      if (params.length > 1 || rest) {
        error(p.name, `${method}: takes ${params.length} parameters; a method takes one JSON argument (or none)`);
        continue;
      }
      const input = params[0] ? checker.getTypeOfSymbol(params[0]) : checker.getVoidType();
      const returned = checker.getReturnTypeOfSignature(signature);
      if (returned.getSymbol()?.getName() !== 'Promise') {
        error(p.name, `${method}: must return a Promise (declare it \`async\`)`);
        continue;
      }
      const output = checker.getAwaitedType(returned) ?? returned;
      const problems = [...findWireProblems(checker, input, 'input'), ...findWireProblems(checker, output, 'output')];
      for (const w of problems) {
        error(p.name, `${method}: \`${w.path}\` has type \`${w.type}\`, which cannot cross the wire: ${w.reason}`);
      }
      if (problems.length > 0) continue;
      const show = (t: ts.Type): string => checker.typeToString(t, p, ts.TypeFormatFlags.NoTruncation);
      methods.push({ name, input: show(input), output: show(output) });
    }
    return methods.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };

  for (const sf of files.map((f) => program.getSourceFile(f))) {
    if (!sf) continue;
    // Wire types read from code that does not type-check are meaningless: report the compiler's errors too.
    for (const d of [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]) {
      if (d.start === undefined) continue;
      const { line, character } = sf.getLineAndCharacterOfPosition(d.start);
      const message = `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      diagnostics.push({ file: repoPath(repoRoot, sf.fileName), line: line + 1, col: character + 1, message });
    }
    // Map each exported symbol to its export name, so `export const x` and `export { x as y }` both count.
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    const exportNames = new Map<ts.Symbol, string>();
    for (const e of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) {
      const target = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e;
      if (!exportNames.has(target)) exportNames.set(target, e.name);
    }
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node)) {
        const kind = defineKind(node);
        if (kind) {
          const decl = node.parent;
          const isTopConst =
            ts.isVariableDeclaration(decl) &&
            decl.initializer === node &&
            ts.isIdentifier(decl.name) &&
            decl.parent.flags & ts.NodeFlags.Const &&
            ts.isSourceFile(decl.parent.parent.parent);
          const symbol = isTopConst ? checker.getSymbolAtLocation(decl.name) : undefined;
          const exportName = symbol && exportNames.get(symbol);
          if (exportName) readDefinition(node, kind, exportName);
          else
            error(
              node,
              `the result of define${kind === 'agent' ? 'Agent' : 'Tool'}(...) must be assigned to an exported top-level const`,
            );
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }

  // Names are activity-type prefixes, file names and identifiers: they must be unique across all files.
  const at = (p: Omit<Diagnostic, 'message'>): string => `${p.file}:${p.line}:${p.col}`;
  const byName = new Map<string, DefinitionInfo>();
  const byIdentifier = new Map<string, DefinitionInfo>();
  for (const d of [...definitions].sort((a, b) => comparePositions(a.position, b.position))) {
    const first = byName.get(d.name) ?? byIdentifier.get(stubIdentifier(d.name));
    if (first) {
      const what =
        first.name === d.name
          ? `duplicate name \`${d.name}\``
          : `names \`${first.name}\` and \`${d.name}\` both make the stub identifier \`${stubIdentifier(d.name)}\``;
      diagnostics.push({
        ...d.position,
        message: `${what}: ${d.kind} at ${at(d.position)} and ${first.kind} at ${at(first.position)}`,
      });
      continue;
    }
    byName.set(d.name, d);
    byIdentifier.set(stubIdentifier(d.name), d);
  }

  diagnostics.sort(comparePositions);
  const sourceFiles = program
    .getSourceFiles()
    .filter((sf) => !program.isSourceFileFromExternalLibrary(sf) && !program.isSourceFileDefaultLibrary(sf))
    .map((sf) => path.resolve(sf.fileName))
    .sort();
  return { definitions: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1)), diagnostics, sourceFiles };
}

function comparePositions(a: Omit<Diagnostic, 'message'>, b: Omit<Diagnostic, 'message'>): number {
  return (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col;
}

/** The const a generated stub exports: the name, with `-` parts joined camelCase (`web-search` → `webSearch`). */
export function stubIdentifier(name: string): string {
  return name.replace(/-+([A-Za-z0-9])/g, (_m, c: string) => c.toUpperCase()).replace(/-/g, '');
}

/** The type of the vanilla `proxyActivities` path: PascalCase(name) + `Activities`. */
export function activitiesTypeName(name: string): string {
  const pascal = name
    .split(/[-_]+/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return `${pascal}Activities`;
}

/** False for reserved words and for names generated files already bind (`definition`, `agentStub`). */
function isValidStubIdentifier(id: string): boolean {
  if (['definition', 'agentStub', 'await', 'arguments', 'eval'].includes(id)) return false;
  const token = ts.identifierToKeywordKind(ts.factory.createIdentifier(id));
  if (token === undefined) return true;
  const reserved = token >= ts.SyntaxKind.FirstReservedWord && token <= ts.SyntaxKind.LastReservedWord;
  const strictReserved =
    token >= ts.SyntaxKind.FirstFutureReservedWord && token <= ts.SyntaxKind.LastFutureReservedWord;
  return !reserved && !strictReserved;
}
