/**
 * `npm start`: provisions the Temporal CLI, starts the embedded stack and keeps it up until Ctrl-C or
 * SIGTERM, then stops everything in reverse order and exits 0. `npm run dev` (`--watch`) does the same and
 * restarts the worker processes when their code changes (dev-mode.ts).
 */
import path from 'node:path';
import { colorEnabled, colorEnv } from '../../common/color';
import { describeSettings, loadConfig, type NalarConfig } from '../../common/config';
import { ErrorCode, isNalarError, NalarError } from '../../common/errors';
import { createLogger, type LogSink } from '../../common/log';
import { ensureTool } from '../../common/toolchain';
import type { StackComponent } from './component';
import { DevMode, restartsOnChange, watchedFolders } from './dev-mode';
import { buildEmbeddedStack, embeddedStack } from './embedded-stack';
import type { LineSink } from './managed-process';
import { Supervisor } from './supervisor';
import { supervisorWorkerHost, WorkerScaling } from './worker-scaling';

const root = path.resolve(__dirname, '..', '..');

/** The components `--help` lists: those the current settings would start (the defaults if they are invalid). */
function componentsForHelp(): StackComponent[] {
  const stack = (config: NalarConfig): StackComponent[] => embeddedStack({ config, temporalBin: 'temporal' });
  try {
    return stack(loadConfig());
  } catch {
    return stack(loadConfig({ env: {} }));
  }
}

function usage(watchMode: boolean): string {
  const components = componentsForHelp();
  const width = Math.max(...components.map((c) => c.name.length));
  const list = components.map((c, i) => `  ${i + 1}. ${c.name.padEnd(width)}  ${c.description}`).join('\n');
  const intro = watchMode
    ? `Usage: npm run dev [-- --help]

Starts Nalar's embedded stack like npm start, and restarts the worker processes (not the dev server or the
simulator) when worker code changes: files under
  ${watchedFolders.join(', ')}
(tests and stubs/generated excepted). A change to agent or tool definitions (activities/agents) regenerates
the stubs first, as npm run stubs does. A worker that does not start (a syntax error, a bad import) is
reported; the rest of the stack keeps running and the worker starts again on the next change. Started in
this order, with the current settings:`
    : `Usage: npm start [-- --help]

Starts Nalar's embedded stack and keeps it running until Ctrl-C (or SIGTERM). Started in this order, with
the current settings:`;
  return `${intro}
${list}
(NALAR_DEV_SERVER=false and NALAR_SIM=false leave the dev server or the simulator out; NALAR_WORKERS sets
the number of workers to start; the global controller's worker scaler adds and drains workers within
NALAR_WORKERS_MIN..NALAR_WORKERS_MAX.) Every process's output is shown with its name as prefix. If any process
exits on its own, the whole stack is stopped and the exit code is 1 (a worker only when fewer than
NALAR_WORKERS_MIN are left; otherwise it is reported and counted out); nothing is restarted silently${
    watchMode ? '\n(in dev mode, a worker that exits starts again on the next change)' : ''
  }.

Settings (environment variables; a JSON file named by NALAR_CONFIG_FILE may set the same keys):
${describeSettings()}`;
}

const stdoutSink: LogSink = (line) => process.stdout.write(line + '\n');

function childSink(width: number, color: boolean): LineSink {
  return (name, _stream, line) => {
    const prefix = `[${name.padEnd(width)}]`;
    process.stdout.write(`${color ? `\x1b[2m${prefix}\x1b[0m` : prefix} ${line}\n`);
  };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const watchMode = args.includes('--watch');
  const rest = args.filter((a) => a !== '--watch');
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(usage(watchMode));
    return 0;
  }
  if (rest.length) {
    throw new NalarError(ErrorCode.USAGE, `unknown argument(s) ${rest.join(' ')}\n\n${usage(watchMode)}`);
  }

  const config = loadConfig();
  const log = createLogger('nalar', config.logLevel, stdoutSink);
  const temporalBin = config.devServer
    ? await ensureTool('temporal', { toolsDir: config.toolsDir, explicitPath: config.temporalBin, log })
    : undefined;
  // Children write into a pipe to us: they colour their output exactly when ours goes to a terminal.
  const color = colorEnabled(process.stdout);
  const stack = buildEmbeddedStack({ config, temporalBin, env: { ...process.env, ...colorEnv(color) } });
  const { components } = stack;
  // The worker scaler's pool of the stack's task queue: worker-1 … worker-NALAR_WORKERS to begin with.
  const scaling = new WorkerScaling({
    log,
    pools: [
      {
        taskQueue: config.taskQueue,
        min: config.workersMin,
        max: config.workersMax,
        initial: config.workers,
        host: supervisorWorkerHost(() => supervisor, stack.worker),
      },
    ],
  });
  const supervisor: Supervisor = new Supervisor(components, {
    log,
    // Names up to worker-<max> line up with the others.
    sink: childSink(Math.max(...components.map((c) => c.name.length), `worker-${config.workersMax}`.length), color),
    readinessTimeoutMs: config.readinessTimeout,
    shutdownGraceMs: config.shutdownGrace,
    tolerateExit: (component, status) => scaling.workerExited(component, status),
    ...(watchMode && { survivable: restartsOnChange }),
  });
  const dev = watchMode
    ? new DevMode({ root, log, restartWorkers: () => supervisor.restart(restartsOnChange) })
    : undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // Ctrl-C reaches us twice (terminal group and the bootstrap passing it on); say it once.
      if (!supervisor.stopRequested) log.info(`${signal} received; stopping the stack`);
      dev?.close();
      void scaling.close();
      void supervisor.stop(0);
    });
  }
  // Workers refuse stale stubs: bring them up to date before the first start, as after every change (invalid
  // definitions are reported; the stack starts anyway and the next change tries again).
  await dev?.regenerateStubs();
  const code = await run(supervisor, dev, scaling);
  log.info(`stopped (exit code ${code})`);
  return code;
}

async function run(supervisor: Supervisor, dev: DevMode | undefined, scaling: WorkerScaling): Promise<number> {
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
  // The global controller scales the workers over its IPC channel (SupervisorScaler on its side).
  const controller = supervisor.processes.find(({ component }) => component.name === 'controller');
  if (controller) scaling.link(controller.process);
  const lines = supervisor.processes.flatMap(({ component, process }) =>
    component.endpoints.map((e, i) => `  ${e}${i === 0 ? ` (pid ${process.pid})` : ''}`),
  );
  // Watching before the banner: once it says "Press Ctrl-C", a change is already noticed.
  dev?.start();
  console.log(`\nNalar is up:\n${lines.join('\n')}\nPress Ctrl-C to stop.\n`);
  const code = await supervisor.finished;
  dev?.close();
  await scaling.close();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`nalar: ${isNalarError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    process.exit(1);
  },
);
