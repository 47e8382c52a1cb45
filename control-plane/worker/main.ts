/**
 * Entry point of a worker process. Started by the supervisor (with an IPC channel) or by hand with
 * `npm run worker`. Stops gracefully on SIGINT/SIGTERM or when its supervisor goes away.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../common/config';
import { createLogger } from '../../common/log';
import { nalarDataConverter } from '../../activities/state/data-converter';
import { closeDefaultSessionStore } from '../../activities/state/managed';
import type { WorkerMessage } from './protocol';
import { createNalarWorker } from './worker';

const usage = `Usage: npm run worker [-- --help]

Runs one Nalar worker process: it polls the task queue NALAR_TASK_QUEUE on the Temporal server at
TEMPORAL_ADDRESS and runs every registered workflow and activity. Stop it with Ctrl-C.`;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(usage);
    return;
  }
  const config = loadConfig();
  const log = createLogger(process.env.NALAR_WORKER_NAME ?? 'worker', config.logLevel);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  try {
    const worker = await createNalarWorker({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      // Drain within 80% of the grace the supervisor gives us, so in-flight activities are cancelled
      // cleanly and the worker exits before SIGKILL.
      shutdownGraceTime: Math.floor(config.shutdownGrace * 0.8),
      dataConverter: nalarDataConverter(config),
    });
    // The supervisor's death closes the IPC channel; stop polling instead of lingering as an orphan.
    process.on('disconnect', () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    });
    const running = worker.run();
    log.info('polling', { taskQueue: config.taskQueue, namespace: config.temporalNamespace });
    const ready: WorkerMessage = { type: 'ready', taskQueue: config.taskQueue, identity: worker.options.identity };
    process.send?.(ready);
    await running;
    log.info('stopped');
  } finally {
    await closeDefaultSessionStore();
    await connection.close();
    // An open IPC channel keeps the event loop alive; close it so the process exits by itself.
    if (process.connected) process.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
