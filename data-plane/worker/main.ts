/**
 * Entry point of a worker process. Started by the supervisor (with an IPC channel) or by hand with
 * `npm run worker`. It runs two Temporal workers on one connection — the main one (every workflow and
 * activity) and the placement one (this process's own queue, for session moves) — serves /metrics, and,
 * when NALAR_STATE_GC_INTERVAL is not 0, the state janitor. Its local controller gates every model call of a
 * future and, when NALAR_CONTROLLER_URL is set, reports to the global controller and installs its decisions. Stops gracefully on SIGINT/SIGTERM or when its
 * supervisor goes away.
 */
import type { Client } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { blobStoreOf, nalarDataConverter } from '../../state/payloads/data-converter';
import { closeDefaultSessionStore, defaultSessionStore } from '../../state/managed';
import { registerStateGauges } from '../../state/metrics';
import { connectNalarClient } from '../../client';
import { isNalarError } from '../../common/errors';
import { placementTaskQueue, workerIdOf } from '../../state/placement/worker-identity';
import { createPlacementWorker } from './placement-worker';
import { startStateJanitorFromConfig, type StateJanitor } from '../../state/lifecycle/janitor';
import { startMetricsServer, type MetricsServer } from './metrics-server';
import type { WorkerMessage } from './protocol';
import { createNalarWorker } from './worker';
import { runEventPublisherFromConfig } from '../../state/streams/from-config';
import { sdkLogger } from './sdk-logger';
import { checkStubsAtStart } from './stubs-check';
import { processStartup } from '../../common/child-process';
import { LocalController } from '../../control-plane/local-controller/local-controller';
import { globalLinkFromConfig, type GlobalLink } from '../../control-plane/local-controller/global-link';

const usage = `Usage: npm run worker [-- --help]

Runs one Nalar worker process: it polls the task queue NALAR_TASK_QUEUE on the Temporal server at
TEMPORAL_ADDRESS and runs every registered workflow and activity, plus its own placement queue
(<NALAR_TASK_QUEUE>.placement.<NALAR_WORKER_ID>) for session moves. Prometheus metrics are served on
http://127.0.0.1:<NALAR_METRICS_PORT>/metrics unless that is 0. With NALAR_STATE_GC_INTERVAL above 0 it
also expires idle sessions and collects unreferenced blobs (run that in one worker only). With
NALAR_CONTROLLER_URL set, its local controller reports to the global controller every NALAR_CONTROL_PERIOD
and enforces its decisions (without it, or while it is unreachable, the worker serves on its own defaults
or the last decisions). Stop it with Ctrl-C.
It refuses to start (exit 1, NALAR_ERR_STUBS_STALE) when the generated stubs are stale: run \`npm run stubs\`
(NALAR_STUBS_CHECK=false turns the check off, for deployments that ship no definitions).`;

async function main(): Promise<void> {
  const started = processStartup(usage, process.env.NALAR_WORKER_NAME ?? 'worker');
  if (!started) return;
  const { config, log } = started;
  // The SDK's own logs (and the native core's) through this process's logger, each repeat about a run said once.
  Runtime.install({
    logger: sdkLogger(log),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} } },
  });
  await checkStubsAtStart(config, log);
  const workerId = workerIdOf(config);
  const dataConverter = nalarDataConverter(config);
  let metrics: MetricsServer | undefined;
  let janitor: StateJanitor | undefined;
  let client: Client | undefined;
  let link: GlobalLink | undefined;
  const localController = new LocalController();
  // Run events (future lifecycle, LLM tokens) for the gateway's SSE streams: best-effort, beside Temporal.
  const runEvents = runEventPublisherFromConfig(config);
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  try {
    // Fail at start, not at the first activity, when the state backend is unreachable.
    const store = await defaultSessionStore();
    registerStateGauges({ sessionStore: defaultSessionStore, blobStore: blobStoreOf(config) });
    if (config.metricsPort !== 0) metrics = await startMetricsServer(config.metricsPort, config.metricsHost);
    // Drain within 80% of the grace the supervisor gives us, so in-flight activities are cancelled
    // cleanly and the worker exits before SIGKILL.
    const shutdownGraceTime = Math.floor(config.shutdownGrace * 0.8);
    const common = { connection, namespace: config.temporalNamespace, taskQueue: config.taskQueue, dataConverter };
    const workers: Worker[] = [
      await createNalarWorker({ ...common, shutdownGraceTime, log, runEvents, localController }),
      await createPlacementWorker({ ...common, workerId, shutdownGraceTime }),
    ];
    if (config.stateGcInterval > 0) {
      client = await connectNalarClient({ config });
      janitor = startStateJanitorFromConfig(config, client, store);
    }
    link = globalLinkFromConfig(config, {
      controller: localController,
      node: workers[0]!.options.identity,
      taskQueues: [config.taskQueue, placementTaskQueue(config.taskQueue, workerId)],
      log,
    });
    const stopAll = (): void => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
    };
    // The supervisor's death closes the IPC channel; stop polling instead of lingering as an orphan.
    process.on('disconnect', stopAll);
    // Both workers stop on the same signals; if one fails, stop the other too.
    const running = Promise.all(workers.map((w) => w.run().finally(stopAll)));
    log.info('polling', {
      taskQueue: config.taskQueue,
      placementQueue: placementTaskQueue(config.taskQueue, workerId),
      namespace: config.temporalNamespace,
      workerId,
      metrics: metrics?.url,
      stateBackend: store.backend,
    });
    const ready: WorkerMessage = {
      type: 'ready',
      taskQueue: config.taskQueue,
      identity: workers[0]!.options.identity,
      workerId,
      ...(metrics && { metricsUrl: metrics.url }),
    };
    process.send?.(ready);
    await running;
    log.info('stopped');
  } finally {
    await link?.stop();
    await janitor?.stop();
    await metrics?.close();
    await runEvents?.close();
    await closeDefaultSessionStore();
    await client?.connection.close();
    await connection.close();
    // An open IPC channel keeps the event loop alive; close it so the process exits by itself.
    if (process.connected) process.disconnect();
  }
}

main().catch((err: unknown) => {
  console.error(isNalarError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : err);
  process.exit(1);
});
