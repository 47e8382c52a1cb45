/**
 * Entry point of the gateway process (`npm run gateway`, or started by `npm start`): serves the HTTP API on
 * NALAR_GATEWAY_HOST:NALAR_GATEWAY_PORT until SIGINT/SIGTERM or until its supervisor goes away.
 */
import { Connection } from '@temporalio/client';
import { connectNalarClient } from '../../client';
import { describeSettings } from '../../common/config';
import { ClaimCheckCodec } from '../../state/payloads/claim-check-codec';
import { blobStoreOf } from '../../state/payloads/data-converter';
import type { GatewayReadyMessage } from './protocol';
import { gatewayListenOptions, startGateway } from './server';
import { gatewayStreaming } from './streams/wiring';
import { implicitTenant } from './tenants';
import { processStartup, releaseSupervisor, runMain, stopRequested } from '../../common/child-process';

const usage = `Usage: npm run gateway [-- --help]

Serves Nalar's HTTP gateway on NALAR_GATEWAY_HOST:NALAR_GATEWAY_PORT:
  POST /v1/workflows/<name>[?mode=wait|async|stream&timeout=10s&workflowId=<id>]  start a workflow
  GET  /v1/runs/<id>            status, result, error with its code
  POST /v1/runs/<id>/cancel     cancel (also DELETE /v1/runs/<id>)
  POST /v1/codec/decode|encode  Temporal's codec-server protocol
  GET  /healthz /readyz /metrics /openapi.json
Tenants come from NALAR_GATEWAY_TOKENS (JSON {"<token>": "<tenant>"}, clients send "Authorization: Bearer
<token>"); without it every request is tenant "${implicitTenant}" and the gateway binds to loopback only. Stop
with Ctrl-C.

Settings:
${describeSettings()}`;

async function main(): Promise<void> {
  const started = processStartup(usage, process.env.NALAR_PROCESS_NAME ?? 'gateway');
  if (!started) return;
  const { config, log } = started;
  const listen = gatewayListenOptions(config);
  // Lazy: the gateway starts (and /readyz says 503) while Temporal is still coming up or away.
  const connection = Connection.lazy({ address: config.temporalAddress });
  const client = await connectNalarClient({ config, connection });
  const codec = new ClaimCheckCodec({ store: blobStoreOf(config), thresholdBytes: config.payloadOffloadBytes });
  const streaming = gatewayStreaming(config);
  const server = await startGateway({
    ...listen,
    client,
    codec,
    log,
    plugins: streaming.plugins,
    streamRun: streaming.streamRun,
    registerRoot: streaming.registerRoot,
  });
  const tenants = Object.keys(listen.tokens).length;
  log.info(`serving ${server.url}`, {
    temporal: config.temporalAddress,
    taskQueue: config.taskQueue,
    auth: tenants === 0 ? 'none' : 'bearer token',
    tenants: tenants === 0 ? implicitTenant : new Set(Object.values(listen.tokens)).size,
  });
  if (tenants === 0) {
    log.info(
      `no NALAR_GATEWAY_TOKENS: no authentication, every request is tenant "${implicitTenant}"; bound to ${listen.host} only`,
    );
  }
  const ready: GatewayReadyMessage = { type: 'gateway-ready', url: server.url };
  process.send?.(ready);
  await stopRequested();
  log.info('stopping');
  await server.close();
  await streaming.close();
  await connection.close();
  releaseSupervisor();
}

runMain(main);
