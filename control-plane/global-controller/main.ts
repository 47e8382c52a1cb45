/**
 * Entry point of the global controller process (`npm run controller`, or started by `npm start`): merges the
 * local controllers' reports, runs the policies every NALAR_CONTROL_PERIOD and serves decisions until
 * SIGINT/SIGTERM or until its supervisor goes away.
 */
import { Connection, WorkflowClient } from '@temporalio/client';
import { describeSettings } from '../../common/config';
import { processStartup, releaseSupervisor, runMain, stopRequested } from '../../common/child-process';
import { kedaListenOptions, startKedaScaler } from '../keda/server';
import { viewSource } from '../keda/view-source';
import { processScalerChannel, SupervisorScaler } from '../capacity/supervisor-scaler';
import { capacityFromConfig } from '../capacity/from-config';
import { builtInPolicies } from '../policies/index';
import { temporalBacklog } from './backlog';
import { GlobalController } from './controller';
import { controllerListenOptions } from './listen';
import { parsePolicyList, resolvePolicies } from './policy-config';
import type { ControllerReadyMessage } from './ready-message';
import { startControllerServer } from './server';

const usage = `Usage: npm run controller [-- --help]

Runs Nalar's global controller on NALAR_CONTROLLER_HOST:NALAR_CONTROLLER_PORT. Every NALAR_CONTROL_PERIOD it
merges the local controllers' reports into the live graph, runs the policies of NALAR_POLICIES over it and
publishes versioned decisions:
  POST /v1/reports              a local controller's report (protocol.ts)
  GET  /v1/decisions?after=<v>&waitMs=<ms>   long poll for decisions newer than <v>
  GET  /v1/graph[?workflow=<id>|session=<id>&limit=<n>]   the live graph as JSON
  GET  /v1/policy               installed policies, decisions, last round's timings, skipped policies
  GET  /v1/capacity             managed replicas per agent (serving, loading, draining), worker pools, capacity events
  PUT  /v1/policy               swap the policies (body: ["name", {"name": "...", "params": {...}}])
  GET  /healthz /metrics
With NALAR_KEDA_PORT set (not 0), it also serves KEDA's external scaler over gRPC on NALAR_KEDA_HOST:NALAR_KEDA_PORT
(metric nalar-<taskQueue>: backlog + waiting calls + calls in flight; docs/control-plane/keda.md).
With NALAR_CONTROL_TOKEN set, reports, decisions and PUT /v1/policy require "Authorization: Bearer <token>";
without it the controller binds to loopback only and PUT /v1/policy is taken from this machine only.
Stop with Ctrl-C. Built-in policies (NALAR_POLICIES names):
${
  Object.entries(builtInPolicies)
    .map(([name, m]) => `  ${name}  ${m.description}`)
    .join('\n') || '  (none registered)'
}

Settings:
${describeSettings()}`;

async function main(): Promise<void> {
  const started = processStartup(usage, process.env.NALAR_PROCESS_NAME ?? 'controller');
  if (!started) return;
  const { config, log } = started;
  const listen = controllerListenOptions(config);
  // KEDA's external scaler (Kubernetes): worker demand per task queue from the same view; off when NALAR_KEDA_PORT=0.
  const kedaListen = kedaListenOptions(config);
  const policies = resolvePolicies(parsePolicyList(config.policies));
  const controller = new GlobalController({ policies, periodMs: config.controlPeriod, log });
  // Lazy: the controller serves while Temporal is still coming up; backlogs are read once it answers.
  const connection = Connection.lazy({ address: config.temporalAddress });
  // Under the supervisor of `npm start` (an IPC channel), it scales the stack's workers on request.
  const channel = processScalerChannel();
  const workerScaler = channel && new SupervisorScaler(channel, { log });
  // Capacity primitives (provision, kill, reassign, scaleWorkers) act through it; none: they are refused.
  const capacity = await capacityFromConfig(config, controller.view, log, workerScaler);
  controller.setCapacity(capacity);
  const server = await startControllerServer({
    ...listen,
    controller,
    log,
    backlog: temporalBacklog(connection, config.temporalNamespace),
    workflowClient: new WorkflowClient({ connection, namespace: config.temporalNamespace }),
    ...(workerScaler && { workerScaler }),
    ...(capacity && { capacity }),
  });
  const keda =
    kedaListen &&
    (await startKedaScaler({
      ...kedaListen,
      log,
      source: viewSource({
        snapshot: () => controller.view,
        // A queue asked about is read from Temporal even with no worker polling it: KEDA scales from zero.
        watch: (taskQueue) => controller.view.watchTaskQueue(taskQueue),
        periodMs: config.controlPeriod,
        defaultTaskQueue: config.taskQueue,
        log,
      }),
    }).catch(async (err: unknown) => {
      await server.close();
      throw err;
    }));
  if (keda) log.info(`KEDA external scaler on ${keda.address} (gRPC)`);
  log.info(`serving ${server.url}`, {
    period: `${config.controlPeriod}ms`,
    policies: policies.map((p) => p.name).join(','),
    auth: listen.token === undefined ? 'none (loopback only)' : 'bearer token',
  });
  const ready: ControllerReadyMessage = { type: 'controller-ready', url: server.url };
  process.send?.(ready);
  await stopRequested();
  log.info('stopping');
  await keda?.close();
  await server.close();
  await capacity?.close();
  workerScaler?.close();
  await connection.close();
  releaseSupervisor();
}

runMain(main);
