/**
 * `npm start`: provisions the Temporal CLI, starts the embedded stack and keeps it up until Ctrl-C or
 * SIGTERM, then stops everything in reverse order and exits 0.
 */
import { describeSettings, loadConfig } from '../../common/config';
import { ErrorCode, isNalarError, NalarError } from '../../common/errors';
import { createLogger, type LogSink } from '../../common/log';
import { ensureTool } from '../../common/toolchain';
import { embeddedStack } from './embedded-stack';
import type { LineSink } from './managed-process';
import { Supervisor } from './supervisor';

const usage = `Usage: npm start [-- --help]

Starts Nalar's embedded stack and keeps it running until Ctrl-C (or SIGTERM):
  1. the Temporal dev server (SQLite in NALAR_DATA_DIR, Web UI, priority and fairness on)
  2. NALAR_WORKERS worker process(es) polling NALAR_TASK_QUEUE
Every process's output is shown with its name as prefix. If any process exits on its own, the whole
stack is stopped and the exit code is 1; nothing is restarted silently.

Settings (environment variables; a JSON file named by NALAR_CONFIG_FILE may set the same keys):
${describeSettings()}`;

const stdoutSink: LogSink = (line) => process.stdout.write(line + '\n');

function childSink(width: number): LineSink {
  const color = process.stdout.isTTY;
  return (name, _stream, line) => {
    const prefix = `[${name.padEnd(width)}]`;
    process.stdout.write(`${color ? `\x1b[2m${prefix}\x1b[0m` : prefix} ${line}\n`);
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return 0;
  }
  if (args.length) throw new NalarError(ErrorCode.USAGE, `unknown argument(s) ${args.join(' ')}\n\n${usage}`);

  const config = loadConfig();
  const log = createLogger('nalar', config.logLevel, stdoutSink);
  const temporalBin = config.devServer
    ? await ensureTool('temporal', { toolsDir: config.toolsDir, explicitPath: config.temporalBin, log })
    : undefined;
  const components = embeddedStack({ config, temporalBin });
  const supervisor = new Supervisor(components, {
    log,
    sink: childSink(Math.max(...components.map((c) => c.name.length))),
    readinessTimeoutMs: config.readinessTimeout,
    shutdownGraceMs: config.shutdownGrace,
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // Ctrl-C reaches us twice (terminal group and the bootstrap passing it on); say it once.
      if (!supervisor.stopRequested) log.info(`${signal} received; stopping the stack`);
      void supervisor.stop(0);
    });
  }
  const code = await run(supervisor);
  log.info(`stopped (exit code ${code})`);
  return code;
}

async function run(supervisor: Supervisor): Promise<number> {
  try {
    await supervisor.start();
  } catch (err) {
    // A Ctrl-C during start-up makes the starting process exit; that is a requested stop, not a failure.
    // A process that exited by itself (a worker refusing stale stubs) is one: its error says why.
    if (supervisor.stopRequested && (await supervisor.finished) === 0) return 0;
    await supervisor.stop(1);
    throw err;
  }
  if (supervisor.stopRequested) return supervisor.finished;
  const lines = supervisor.processes.flatMap(({ component, process }) =>
    component.endpoints.map((e, i) => `  ${e}${i === 0 ? ` (pid ${process.pid})` : ''}`),
  );
  console.log(`\nNalar is up:\n${lines.join('\n')}\nPress Ctrl-C to stop.\n`);
  return supervisor.finished;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`nalar: ${isNalarError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    process.exit(1);
  },
);
