/** `generateStubs`: discovery, validation and emission of the stubs folder, or a check that it is current. */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, NalarError } from '../../common/errors';
import { discoverDefinitions, repoPath, type DefinitionInfo } from './discover';
import { emitFiles } from './emit';
import { defaultDefinitionsDir, defaultOutDir, defaultRepoRoot } from './paths';

export { defaultRepoRoot };

/** Options of {@link generateStubs}. */
export interface GenerateOptions {
  /** Folder of definition files, searched recursively (`*.test.ts` and `index.ts` skipped). @default 'activities/agents' */
  definitionsDir?: string;
  /** Output folder. @default 'stubs/generated' */
  outDir?: string;
  /** Write nothing; throw `NALAR_ERR_STUBS_STALE` when the output folder differs. @default false */
  check?: boolean;
  /** Repository root: holds `tsconfig.json`, `.prettierrc.json` and `stubs/`. @default this repository */
  repoRoot?: string;
}

/** What happened to one output file. `stale`, `missing` and `extra` only occur with `check`. */
export type FileStatus = 'written' | 'unchanged' | 'deleted' | 'stale' | 'missing' | 'extra';

/** Result of {@link generateStubs}. */
export interface GenerateResult {
  definitions: DefinitionInfo[];
  /** One entry per generated or deleted file (repo-relative posix paths), sorted by path. */
  files: { file: string; status: FileStatus }[];
  /**
   * Absolute paths of every file the output depends on besides the definitions folder and the output folder:
   * the source files the definitions import, the repo's tsconfig, Prettier options and lockfile, and the
   * generator's own code. Unchanged inputs (and folders) give unchanged output: what a cached check relies on.
   */
  inputs: string[];
}

/** Files the generator never deletes from the output folder. */
const keptFiles = new Set(['README.md']);

/**
 * Generates `<name>.ts` per definition, `index.ts` and `manifest.json` into `outDir`, rewriting only files
 * whose content changed and deleting files no definition produces (except README.md).
 *
 * @throws NalarError `NALAR_ERR_DEFINITION_INVALID` listing every problem as `file:line:col: message`
 * @throws NalarError `NALAR_ERR_STUBS_STALE` with `check` when the folder is not what would be generated
 * @throws NalarError `NALAR_ERR_USAGE` when the definitions folder does not exist
 */
export async function generateStubs(options: GenerateOptions = {}): Promise<GenerateResult> {
  const repoRoot = path.resolve(options.repoRoot ?? defaultRepoRoot);
  const definitionsDir = path.resolve(repoRoot, options.definitionsDir ?? defaultDefinitionsDir);
  const outDir = path.resolve(repoRoot, options.outDir ?? defaultOutDir);
  if (!fs.statSync(definitionsDir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new NalarError(ErrorCode.USAGE, `definitions folder not found: ${definitionsDir}`);
  }

  const { definitions, diagnostics, sourceFiles } = discoverDefinitions({ repoRoot, definitionsDir });
  if (diagnostics.length > 0) {
    const lines = diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
    const count = diagnostics.length === 1 ? '1 problem' : `${diagnostics.length} problems`;
    throw new NalarError(ErrorCode.DEFINITION_INVALID, `${count} in agent/tool definitions:\n${lines.join('\n')}`);
  }

  const expected = await emitFiles(definitions, { outDir, repoRoot });
  const existing = fs.existsSync(outDir)
    ? fs.readdirSync(outDir, { withFileTypes: true }).filter((e) => e.isFile() && !keptFiles.has(e.name))
    : [];
  const files: GenerateResult['files'] = [];
  const rel = (name: string): string => repoPath(repoRoot, path.join(outDir, name));

  for (const { name, text } of expected) {
    const target = path.join(outDir, name);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : undefined;
    if (current === text) files.push({ file: rel(name), status: 'unchanged' });
    else if (options.check) files.push({ file: rel(name), status: current === undefined ? 'missing' : 'stale' });
    else {
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(target, text);
      files.push({ file: rel(name), status: 'written' });
    }
  }
  const produced = new Set(expected.map((f) => f.name));
  for (const { name } of existing.filter((e) => !produced.has(e.name))) {
    if (!options.check) fs.rmSync(path.join(outDir, name));
    files.push({ file: rel(name), status: options.check ? 'extra' : 'deleted' });
  }
  files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  const differing = files.filter((f) => f.status !== 'unchanged');
  if (options.check && differing.length > 0) {
    throw new NalarError(
      ErrorCode.STUBS_STALE,
      `generated stubs are out of date; run \`npm run stubs\` to regenerate them:\n` +
        differing.map((f) => `  ${f.status}: ${f.file}`).join('\n'),
    );
  }
  const generatorFiles = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => path.join(__dirname, name));
  const repoFiles = ['tsconfig.json', '.prettierrc.json', 'package-lock.json'].map((f) => path.join(repoRoot, f));
  const inputs = [...new Set([...sourceFiles, ...repoFiles, ...generatorFiles])].sort();
  return { definitions, files, inputs };
}
