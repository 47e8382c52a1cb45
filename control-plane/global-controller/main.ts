/**
 * Entry point of the global controller process (`npm run controller`, or started by `npm start`): merges the
 * local controllers' reports, runs the policies every NALAR_CONTROL_PERIOD and serves decisions until
 * SIGINT/SIGTERM or until its supervisor goes away.
 */
import { Connection, WorkflowClient } from '@temporalio/client';
import { describeSettings } from '../../common/config';
import { processStartup, releaseSupervisor, runMain, stopRequested } from '../../common/child-process';
import { processScalerChannel, SupervisorScaler } from '../capacity/supervisor-scaler';
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
  PUT  /v1/policy               swap the policies (body: ["name", {"name": "...", "params": {...}}])
  GET  /healthz /metrics
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
  const policies = resolvePolicies(parsePolicyList(config.policies));
  const controller = new GlobalController({ policies, periodMs: config.controlPeriod, log });
  // Lazy: the controller serves while Temporal is still coming up; backlogs are read once it answers.
  const connection = Connection.lazy({ address: config.temporalAddress });
  // Under the supervisor of `npm start` (an IPC channel), it scales the stack's workers on request.
  const channel = processScalerChannel();
  const workerScaler = channel && new SupervisorScaler(channel, { log });
  const server = await startControllerServer({
    ...listen,
    controller,
    log,
    backlog: temporalBacklog(connection, config.temporalNamespace),
    workflowClient: new WorkflowClient({ connection, namespace: config.temporalNamespace }),
    ...(workerScaler && { workerScaler }),
  });
  log.info(`serving ${server.url}`, {
    period: `${config.controlPeriod}ms`,
    policies: policies.map((p) => p.name).join(','),
    auth: listen.token === undefined ? 'none (loopback only)' : 'bearer token',
  });
  const ready: ControllerReadyMessage = { type: 'controller-ready', url: server.url };
  process.send?.(ready);
  await stopRequested();
  log.info('stopping');
  await server.close();
  workerScaler?.close();
  await connection.close();
  releaseSupervisor();
}

runMain(main);
