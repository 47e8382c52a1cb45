/** The `nalar stubs` command line: argument parsing, usage and output; `stubs/cli.ts` only runs it. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ErrorCode, isNalarError } from '../../common/errors';
import { generateStubs } from './generate';

/** The `--help` text. */
export const usage = `Usage: npm run stubs -- [--check] [--definitions <dir>] [--out <dir>] [--help]

Generates typed, workflow-safe stubs from agent and tool definitions. A definition is
\`export const x = defineAgent({...})\` or \`defineTool({...})\` (from stubs/define.ts) in a .ts file under
the definitions folder (searched recursively; *.test.ts and index.ts are skipped). Definitions are read
statically with the TypeScript compiler, never run: name, taskQueue, startToCloseTimeout, heartbeatTimeout,
retry and directives must be literals; directives may only be stateful, batchable, preemptable,
minInstances, maxInstances and resources; every method takes one argument (or none) and returns a Promise,
and both must be JSON-serialisable (no functions, symbols, bigint, Map, Set, Date, RegExp, Buffer, class
instances). Names must be unique across all files.

Writes into the output folder:
  <name>.ts       the stub (agentStub) and the <Name>Activities type for plain proxyActivities
  index.ts        re-exports every stub
  manifest.json   every definition with its directives, activity types and wire types
Only changed files are rewritten; files no definition produces any more are deleted (README.md is kept).
The output is deterministic and already formatted with the repo's Prettier options.

Options:
  --check              write nothing; exit 1 (NALAR_ERR_STUBS_STALE) listing stale, missing and extra files
                       when the output folder differs from what would be generated
  --definitions <dir>  folder of definition files (default: activities/agents)
  --out <dir>          output folder (default: stubs/generated)
  -h, --help           print this help

Exit codes: 0 done or up to date; 1 invalid definitions (NALAR_ERR_DEFINITION_INVALID, one
"file:line:col: message" line per problem) or stale output; 2 usage error (NALAR_ERR_USAGE).`;

/** Where the command writes; tests pass collectors. */
export interface CommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Relative `--definitions`/`--out` resolve against this. */
  cwd: string;
}

/** Runs `nalar stubs` with `argv` (without node and script) and returns the exit code; never throws for user errors. */
export async function runStubsCommand(argv: string[], io: CommandIo): Promise<number> {
  let values: { check?: boolean; definitions?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        check: { type: 'boolean' },
        definitions: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`nalar stubs: ${ErrorCode.USAGE}: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    io.out(usage);
    return 0;
  }

  try {
    const result = await generateStubs({
      definitionsDir: values.definitions === undefined ? undefined : path.resolve(io.cwd, values.definitions),
      outDir: values.out === undefined ? undefined : path.resolve(io.cwd, values.out),
      check: values.check ?? false,
    });
    const count = (status: string): number => result.files.filter((f) => f.status === status).length;
    const defs = `${result.definitions.length} definition${result.definitions.length === 1 ? '' : 's'}`;
    if (values.check) {
      io.out(`nalar stubs: up to date (${defs}, ${result.files.length} files)`);
    } else {
      for (const f of result.files) io.out(`${f.status.padEnd(9)} ${f.file}`);
      const counts = ['written', 'unchanged', 'deleted'].map((s) => `${count(s)} ${s}`).join(', ');
      io.out(`nalar stubs: ${defs}; ${counts}`);
    }
    return 0;
  } catch (err) {
    if (!isNalarError(err)) throw err;
    io.err(`nalar stubs: ${err.code}: ${err.message}`);
    return err.code === ErrorCode.USAGE ? 2 : 1;
  }
}
