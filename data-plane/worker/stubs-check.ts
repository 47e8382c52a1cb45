/**
 * A worker refuses to start on stale stubs: the check of `nalar stubs --check`, run before the worker polls.
 * Stubs generated before a method was added type-check (their types come from the definitions) but call what
 * the stub lists, so a workflow would fail on the new method; this stops the worker with the command that fixes
 * it. The full check type-checks the definitions (seconds), so a passing check is remembered by a fingerprint
 * of every file it read: a restart with nothing changed costs hashing a few dozen files.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { NalarConfig } from '../../common/config';
import { isNalarError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { defaultDefinitionsDir, defaultOutDir, defaultRepoRoot } from '../../stubs/generator/paths';
import type { WorkerRefusedMessage } from './protocol';
import type * as generator from '../../stubs/generator/generate';

type GeneratorModule = typeof generator;

/** Options of {@link checkStubs}. */
export interface StubsCheckOptions {
  /** Folder of definition files. @default activities/agents of this repository */
  definitionsDir?: string;
  /** Folder of generated stubs. @default stubs/generated of this repository */
  outDir?: string;
  /** Where a passing check is remembered (JSON). @default none: every check is a full one */
  cacheFile?: string;
}

/** What {@link checkStubs} did. */
export interface StubsCheckResult {
  /** True when a remembered passing check matched and the generator did not run. */
  cached: boolean;
  /** How long the check took, in milliseconds. */
  ms: number;
}

const cacheSchema = z.object({ version: z.literal(1), fingerprint: z.string(), inputs: z.array(z.string()) });
type Cache = z.infer<typeof cacheSchema>;

/** Every file under `dir` (recursively), absolute and sorted; none when it does not exist. */
function filesUnder(dir: string, recursive: boolean): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** A hash of the paths and contents of `inputs` and of every file in both folders (a missing file counts too). */
function fingerprint(inputs: readonly string[], definitionsDir: string, outDir: string): string {
  const hash = createHash('sha256');
  const files = [...new Set([...inputs, ...filesUnder(definitionsDir, true), ...filesUnder(outDir, false)])].sort();
  for (const file of files) {
    hash.update(file).update('\0');
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : '<missing>').update('\0');
  }
  return hash.digest('hex');
}

function readCache(file: string): Cache | undefined {
  try {
    return cacheSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    // Missing or unreadable: do the full check (and rewrite it).
    return undefined;
  }
}

function writeCache(file: string, entry: Cache): void {
  // Written whole and renamed, so a concurrent worker never reads half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(entry));
    fs.renameSync(tmp, file);
  } catch {
    // A read-only checkout: the next start checks in full again, nothing worse.
    fs.rmSync(tmp, { force: true });
  }
}

/** Where a worker remembers its last passing check: next to the files checked, in the repo's git-ignored `.nalar/`. */
export const defaultStubsCheckCache = path.join(defaultRepoRoot, '.nalar', 'stubs-check.json');

/**
 * Checks that the generated stubs match the definitions, exactly as `nalar stubs --check` does.
 *
 * @throws NalarError `NALAR_ERR_STUBS_STALE` (its message lists the stale files and says to run
 *   `npm run stubs`), `NALAR_ERR_DEFINITION_INVALID` or `NALAR_ERR_USAGE`, as `generateStubs` throws them
 */
export async function checkStubs(options: StubsCheckOptions = {}): Promise<StubsCheckResult> {
  const started = performance.now();
  const definitionsDir = path.resolve(defaultRepoRoot, options.definitionsDir ?? defaultDefinitionsDir);
  const outDir = path.resolve(defaultRepoRoot, options.outDir ?? defaultOutDir);
  const cache = options.cacheFile === undefined ? undefined : readCache(options.cacheFile);
  if (cache && cache.fingerprint === fingerprint(cache.inputs, definitionsDir, outDir)) {
    return { cached: true, ms: performance.now() - started };
  }
  // Loaded only when needed: the generator brings the TypeScript compiler and Prettier (half a second).
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a lazy load; import() needs ESM here
  const { generateStubs } = require('../../stubs/generator/generate') as GeneratorModule;
  const { inputs } = await generateStubs({ definitionsDir, outDir, check: true });
  if (options.cacheFile !== undefined) {
    const entry: Cache = { version: 1, fingerprint: fingerprint(inputs, definitionsDir, outDir), inputs };
    writeCache(options.cacheFile, entry);
  }
  return { cached: false, ms: performance.now() - started };
}

/**
 * The first step of a worker process: unless `config.stubsCheck` is false (NALAR_STUBS_CHECK), checks the
 * stubs ({@link checkStubs}, remembered in {@link defaultStubsCheckCache}) and logs how long it took. On a
 * failure it tells its supervisor (an IPC `refused` message with the code and message) and rethrows, so the
 * process exits 1 before it polls anything.
 */
export async function checkStubsAtStart(
  config: Pick<NalarConfig, 'stubsCheck'>,
  log: Logger,
  options: StubsCheckOptions = {},
): Promise<void> {
  if (!config.stubsCheck) {
    log.info('stub check skipped (NALAR_STUBS_CHECK=false)');
    return;
  }
  try {
    const result = await checkStubs({ cacheFile: defaultStubsCheckCache, ...options });
    log.info('stubs are up to date', { checkMs: Math.round(result.ms), cached: result.cached });
  } catch (err) {
    if (isNalarError(err)) {
      const refused: WorkerRefusedMessage = { type: 'refused', code: err.code, message: err.message };
      // Delivered before the process exits (process.exit drops messages still being sent).
      await new Promise<void>((resolve) => (process.send ? process.send(refused, () => resolve()) : resolve()));
    }
    throw err;
  }
}
