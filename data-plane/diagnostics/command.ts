/** The `nalar stuck` command line: argument parsing, usage and output; `cli.ts` only runs it. */
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../common/config';
import { ErrorCode, errorMessage, isNalarError } from '../../common/errors';
import { findStuckWorkflows, type StuckWorkflow } from './stuck';

/** The `--help` text. */
export const usage = `Usage: nalar stuck [--json] [--limit <n>] [--query <visibility query>] [--help]

Lists open workflows whose workflow task keeps failing: their code throws (a TypeError, a non-determinism
error, ...), so Temporal retries the task until a worker runs fixed code. Such a workflow neither fails nor
finishes; it looks like a hang. For each: workflow id, type, the attempt of its workflow task, and the error
of the recorded task failure. Fix the code, restart the workers, and the workflow resumes where it was.
(Workers also log each one once at error level.)

Reads TEMPORAL_NAMESPACE on TEMPORAL_ADDRESS (as npm start; see npm start -- --help). Read-only.

Options:
  --json               print one JSON object: { stuck: [...], inspected, truncated }
  --limit <n>          inspect at most n open workflows (default 1000; each costs one describe call)
  --query <query>      only open workflows that also match this visibility query, e.g. 'TaskQueue = "nalar"'
  -h, --help           print this help

Exit codes: 0 listed (also when none is stuck); 1 cannot reach Temporal; 2 usage error (NALAR_ERR_USAGE).`;

/** Where the command writes and what it reads; tests pass collectors and their own environment. */
export interface StuckCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Aligned columns, first line headers; the error column is cut at `width`. */
function table(rows: StuckWorkflow[]): string[] {
  const cells = [
    ['WORKFLOW ID', 'TYPE', 'ATTEMPT', 'FAILING SINCE', 'ERROR'],
    ...rows.map((r) => [
      r.workflowId,
      r.workflowType,
      String(r.taskAttempt),
      r.failingSince ?? '-',
      r.error.split('\n')[0]!.slice(0, 160),
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

/** Runs `nalar stuck` with `argv` (after `stuck`) and returns the exit code; never throws for user errors. */
export async function runStuckCommand(argv: string[], io: StuckCommandIo): Promise<number> {
  let values: { json?: boolean; limit?: string; query?: string; help?: boolean };
  let limit: number | undefined;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: 'boolean' },
        limit: { type: 'string' },
        query: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (values.limit !== undefined) {
      limit = Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new Error(`--limit: expected a positive integer, got '${values.limit}'`);
    }
  } catch (err) {
    io.err(`nalar stuck: ${ErrorCode.USAGE}: ${errorMessage(err)}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    io.out(usage);
    return 0;
  }

  let connection: Connection | undefined;
  try {
    const config = loadConfig({ env: io.env ?? process.env });
    try {
      connection = await Connection.connect({ address: config.temporalAddress, connectTimeout: '10 seconds' });
    } catch (err) {
      throw new Error(
        `cannot connect to Temporal at ${config.temporalAddress} (TEMPORAL_ADDRESS): ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    }
    const client = new Client({ connection, namespace: config.temporalNamespace });
    const result = await findStuckWorkflows(client, {
      ...(limit !== undefined && { limit }),
      ...(values.query !== undefined && { query: values.query }),
    });
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    const where = `namespace ${config.temporalNamespace} at ${config.temporalAddress}`;
    const more = result.truncated ? ` (stopped at --limit ${result.inspected}; more are open)` : '';
    if (result.stuck.length === 0) {
      io.out(
        `nalar stuck: none of ${result.inspected} open workflow(s) in ${where} has a failing workflow task${more}`,
      );
      return 0;
    }
    for (const line of table(result.stuck)) io.out(line);
    io.out(
      `nalar stuck: ${result.stuck.length} of ${result.inspected} open workflow(s) in ${where} are stuck${more}; ` +
        'fix the code and restart the workers to resume them',
    );
    return 0;
  } catch (err) {
    io.err(`nalar stuck: ${isNalarError(err) ? `${err.code}: ${err.message}` : errorMessage(err)}`);
    return 1;
  } finally {
    await connection?.close();
  }
}
