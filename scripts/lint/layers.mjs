// ESLint plugin `nalar`: the architecture rules, checked on every import.
//
// - `nalar/workflow-sandbox`: workflow-side files (scripts/lint/workflow-side.json) run in Temporal's
//   deterministic sandbox. They import values only from an allow-list: the packages of workflow-side.json
//   (`@temporalio/workflow`, `zod`), other
//   workflow-side files (the stubs runtime, generated stubs, the state layer's workflow side, workflows);
//   `import type` of anything (`@temporalio/common` included) is fine, because types are erased.
// - `nalar/layers`: a worker-side file imports only what the README of its folder allows. Each top-level
//   folder's README.md has one line `May import: ...` naming repo folders in backticks (`common/`, a
//   `(types only)` after one allows only `import type`), package names in backticks, and the words
//   "Node built-ins" when those are allowed; the rule ends with the line's first sentence. A sub-folder README with such a line narrows or widens it for
//   its files. The README is the rule, so it cannot drift from the code.
// Tests (*.test.ts) are exempt from both: they may import anything.
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const workflowSide = JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'lint', 'workflow-side.json'), 'utf8'));
const workflowSidePatterns = workflowSide.patterns.map((p) => new RegExp(p));
/** Packages whose values workflow-side files may import (a package's subpaths too). */
const workflowPackages = workflowSide.packages;

/** Repo-relative path with '/' separators, or undefined outside the repo. */
function repoPath(file) {
  const rel = path.relative(root, file);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

const isTest = (rel) => /\.test\.[cm]?[jt]s$/.test(rel);

/** True for files the worker bundles as workflow code. */
function isWorkflowSide(rel) {
  return !isTest(rel) && workflowSidePatterns.some((re) => re.test(rel));
}

const builtins = new Set(builtinModules);
const isBuiltin = (spec) => spec.startsWith('node:') || builtins.has(spec.split('/')[0]);

/** `@scope/name` or `name` of a bare specifier. */
function packageName(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The repo file a relative specifier points to, following TypeScript's resolution of this repo. */
function resolveRelative(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec);
  const candidates = [base, `${base}.ts`, `${base}.mjs`, `${base}.js`, path.join(base, 'index.ts')];
  if (/\.js$/.test(base)) candidates.push(base.replace(/\.js$/, '.ts'));
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
}

/** Parses a README's `May import:` line (the paragraph it starts, up to a blank line). */
function parseImportRule(readmeText) {
  const lines = readmeText.split('\n');
  const start = lines.findIndex((l) => /^(\s*-\s*)?May import:/.test(l));
  if (start < 0) return undefined;
  const para = [];
  for (let i = start; i < lines.length && lines[i].trim() !== '' && (i === start || !/^\s*-\s/.test(lines[i])); i++) {
    para.push(lines[i]);
  }
  // The rule is the first sentence; what follows ("Imported by ...") is for people.
  const text = /May import:(.*?)(?:\.\s|\.$|$)/.exec(para.join(' '))?.[1] ?? '';
  const folders = new Map();
  const packages = new Set();
  for (const m of text.matchAll(/`([^`\s]+)`(\s*\(types only\))?/g)) {
    const token = m[1];
    if (/^[a-z0-9-]+\/$/.test(token)) folders.set(token.slice(0, -1), m[2] ? 'types' : 'all');
    else if (/^(@[a-z0-9-]+\/)?[a-z0-9][a-z0-9._-]*$/.test(token)) packages.add(token);
  }
  return { folders, packages, builtins: /Node built-ins/.test(text), anything: /anything in the repo/.test(text) };
}

const ruleCache = new Map();
/** The import rule of the most specific README (with a `May import:` line) above `rel`, and its folder. */
function importRuleFor(rel) {
  const dirs = rel.split('/').slice(0, -1);
  for (let n = dirs.length; n >= 1; n--) {
    const dir = dirs.slice(0, n).join('/');
    if (!ruleCache.has(dir)) {
      const readme = path.join(root, dir, 'README.md');
      ruleCache.set(dir, fs.existsSync(readme) ? parseImportRule(fs.readFileSync(readme, 'utf8')) : undefined);
    }
    const rule = ruleCache.get(dir);
    if (rule) return { dir, rule };
  }
  return undefined;
}

/** Whether an import statement or export-from brings in only types. */
function typeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specifiers = node.specifiers ?? [];
  return (
    specifiers.length > 0 &&
    specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type') &&
    specifiers.every((s) => s.type === 'ImportSpecifier' || s.type === 'ExportSpecifier')
  );
}

/** Calls `check(sourceNode, spec, isTypeOnly)` for every static import, export-from, import() and require(). */
function importVisitors(check) {
  const literal = (n) => (n && n.type === 'Literal' && typeof n.value === 'string' ? n : undefined);
  return {
    ImportDeclaration: (node) => check(node.source, node.source.value, typeOnly(node)),
    ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value, typeOnly(node)),
    ExportAllDeclaration: (node) => check(node.source, node.source.value, node.exportKind === 'type'),
    ImportExpression: (node) => {
      const s = literal(node.source);
      if (s) check(s, s.value, false);
    },
    TSImportEqualsDeclaration: (node) => {
      const s = node.moduleReference?.expression;
      if (node.moduleReference?.type === 'TSExternalModuleReference' && literal(s)) {
        check(s, s.value, node.importKind === 'type');
      }
    },
    CallExpression: (node) => {
      const s = literal(node.arguments[0]);
      if (s && node.callee.type === 'Identifier' && node.callee.name === 'require') check(s, s.value, false);
    },
  };
}

const workflowSandbox = {
  meta: {
    type: 'problem',
    docs: { description: 'Workflow-side files import values only from the sandbox allow-list' },
    schema: [],
    messages: {
      package:
        "'{{spec}}' is not allowed in workflow code (Temporal's deterministic sandbox): values come only from {{allowed}} and workflow-side files; use `import type` for types.",
      workerSide:
        "'{{spec}}' is worker-side code ({{target}}); workflow code may only `import type` from it (activities through proxyActivities or stubs).",
    },
  },
  create(context) {
    const rel = repoPath(context.filename);
    if (!rel || !isWorkflowSide(rel)) return {};
    return importVisitors((node, spec, isType) => {
      if (isType) return;
      if (spec.startsWith('.')) {
        const target = resolveRelative(context.filename, spec);
        const targetRel = target && repoPath(target);
        if (targetRel && !isWorkflowSide(targetRel)) {
          context.report({ node, messageId: 'workerSide', data: { spec, target: targetRel } });
        }
        return;
      }
      if (workflowPackages.some((p) => spec === p || spec.startsWith(`${p}/`))) return;
      context.report({ node, messageId: 'package', data: { spec, allowed: workflowPackages.join(', ') } });
    });
  },
};

const layers = {
  meta: {
    type: 'problem',
    docs: { description: "Worker-side files import only what their folder's README allows" },
    schema: [],
    messages: {
      folder: "{{dir}}/ may not import {{target}}/ ('{{spec}}'): its README.md allows {{allowed}}.",
      typesOnly: "{{dir}}/ may import {{target}}/ only with `import type` ('{{spec}}'), as its README.md says.",
      package: "{{dir}}/ may not import the package '{{spec}}': it is not listed in {{dir}}/README.md.",
      builtin: "{{dir}}/ may not import the Node built-in '{{spec}}': {{dir}}/README.md does not allow them.",
      noRule: "{{top}}/README.md has no 'May import:' line, so nothing says what {{top}}/ may import.",
    },
  },
  create(context) {
    const rel = repoPath(context.filename);
    if (!rel || isTest(rel) || isWorkflowSide(rel) || !rel.includes('/')) return {};
    const top = rel.split('/')[0];
    const found = importRuleFor(rel);
    if (!found) {
      return { Program: (node) => context.report({ node, messageId: 'noRule', data: { top } }) };
    }
    const { dir, rule } = found;
    if (rule.anything) return {};
    const allowed = [...rule.folders.keys()].map((f) => `${f}/`).join(', ') || 'no other folder';
    return importVisitors((node, spec, isType) => {
      if (spec.startsWith('.')) {
        const target = resolveRelative(context.filename, spec);
        const targetRel = target && repoPath(target);
        if (!targetRel) return;
        const targetTop = targetRel.split('/')[0];
        if (targetTop === top || !targetRel.includes('/')) return;
        const access = rule.folders.get(targetTop);
        if (!access) context.report({ node, messageId: 'folder', data: { dir, target: targetTop, spec, allowed } });
        else if (access === 'types' && !isType) {
          context.report({ node, messageId: 'typesOnly', data: { dir, target: targetTop, spec } });
        }
        return;
      }
      if (isType) return;
      if (isBuiltin(spec)) {
        if (!rule.builtins) context.report({ node, messageId: 'builtin', data: { dir, spec } });
        return;
      }
      if (!rule.packages.has(packageName(spec))) context.report({ node, messageId: 'package', data: { dir, spec } });
    });
  },
};

export const nalarPlugin = { meta: { name: 'nalar' }, rules: { 'workflow-sandbox': workflowSandbox, layers } };
