/** The `nalar futures` command line: argument parsing, usage and output; `cli.ts` only runs it. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../common/config';
import { ErrorCode, errorMessage, isNalarError } from '../../common/errors';
import { connectNalarClient } from '../../client';
import { formatFuturesTable } from './format';
import { readFutures } from './read-futures';

/** The `--help` text. */
export const usage = `Usage: nalar futures <workflowId> [--run-id <id>] [--json] [--address <host:port>] [--namespace <ns>]

Lists every future (agent or tool call made through a stub) of one workflow run, read from the run's
Temporal history: works for runs in progress, completed and failed runs. A future whose call is not
scheduled yet (it waits on its dependencies) has no history event yet and is not listed.

Columns: FUTURE (#n: the call number, the future id is <workflowId>/n), METHOD, STATE (scheduled, started,
retrying, paused, cancelling, completed, failed, cancelled, timed out, abandoned), DEPENDS ON (futures
passed in its arguments), CONSUMERS (futures that took it as an argument), ATTEMPTS, QUEUE (first attempt:
scheduled -> started), WAIT (scheduled -> latest attempt started), SERVICE (latest attempt: started ->
closed), ERROR (failure type, e.g. a NALAR_ERR_ code, and message).

Options:
  --run-id <id>          the run to read (default: the latest run of the workflow id)
  --json                 print one JSON object (shape: stubs/inspect/report.ts, futuresReport)
  --address <host:port>  Temporal frontend (default: TEMPORAL_ADDRESS, 127.0.0.1:7233)
  --namespace <ns>       Temporal namespace (default: TEMPORAL_NAMESPACE, default)
  -h, --help             print this help

Payloads the claim check offloaded are read from NALAR_DATA_DIR/blobs, as workers write them.
Exit codes: 0 listed; 1 failed (NALAR_ERR_WORKFLOW_NOT_FOUND: no such workflow or run; Temporal not
reachable); 2 usage error (NALAR_ERR_USAGE).`;

/** Where the command writes and what it reads; tests pass collectors, their own environment and client. */
export interface FuturesCommandIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Relative NALAR_DATA_DIR resolves against this. @default process.cwd() */
  cwd?: string;
}

/** Runs `nalar futures` with `argv` (after `futures`) and returns the exit code; never throws for user errors. */
export async function runFuturesCommand(argv: string[], io: FuturesCommandIo): Promise<number> {
  let values: { 'run-id'?: string; json?: boolean; address?: string; namespace?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        'run-id': { type: 'string' },
        json: { type: 'boolean' },
        address: { type: 'string' },
        namespace: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (!values.help && positionals.length !== 1) {
      throw new Error(
        positionals.length === 0 ? 'missing <workflowId>' : `one workflow id expected, got ${positionals.length}`,
      );
    }
    if (positionals[0] === '') throw new Error('<workflowId> is empty');
  } catch (err) {
    io.err(`nalar futures: ${ErrorCode.USAGE}: ${errorMessage(err)}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    io.out(usage);
    return 0;
  }

  try {
    const config = loadConfig({
      env: io.env ?? process.env,
      cwd: io.cwd ?? process.cwd(),
      overrides: {
        ...(values.address !== undefined && { temporalAddress: values.address }),
        ...(values.namespace !== undefined && { temporalNamespace: values.namespace }),
      },
    });
    const client = await connectNalarClient({ config });
    try {
      const report = await readFutures(client, {
        workflowId: positionals[0] as string,
        ...(values['run-id'] !== undefined && { runId: values['run-id'] }),
      });
      if (values.json) io.out(JSON.stringify(report, null, 2));
      else for (const line of formatFuturesTable(report)) io.out(line);
    } finally {
      await client.connection.close();
    }
    return 0;
  } catch (err) {
    io.err(`nalar futures: ${isNalarError(err) ? `${err.code}: ${err.message}` : errorMessage(err)}`);
    return 1;
  }
}
