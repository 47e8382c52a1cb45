/**
 * Entry point of the codec server process (`npm run codec-server`, or started by `npm start`): decodes
 * offloaded payloads for the Temporal Web UI and CLI until SIGINT/SIGTERM or until its supervisor goes away.
 */
import { describeSettings } from '../../common/config';
import { blobDirOf, blobStoreOf } from '../../state/payloads/data-converter';
import { ClaimCheckCodec } from '../../state/payloads/claim-check-codec';
import { codecListenOptions } from './codec-config';
import type { CodecReadyMessage } from './protocol';
import { startCodecServer } from './server';
import { processStartup, releaseSupervisor, runMain, stopRequested } from '../../common/child-process';

const usage = `Usage: npm run codec-server [-- --help]

Serves Temporal's codec-server protocol (POST /decode, /encode; GET /healthz, /metrics) on
NALAR_CODEC_HOST:NALAR_CODEC_PORT, so the Temporal Web UI (--ui-codec-endpoint) and CLI
(--codec-endpoint) show offloaded payloads (binary/nalar-blob handles) as their values. It reads the blob
store in NALAR_DATA_DIR/blobs. Bound beyond loopback it requires NALAR_CODEC_TOKEN, which clients send as
"Authorization: Bearer <token>" (temporal --codec-auth "Bearer <token>"). Stop with Ctrl-C.

Settings:
${describeSettings()}`;

async function main(): Promise<void> {
  const started = processStartup(usage, process.env.NALAR_PROCESS_NAME ?? 'codec');
  if (!started) return;
  const { config, log } = started;
  const listen = codecListenOptions(config);
  // The workers' codec over their blob store; also with offload off, as history may still hold handles.
  const codec = new ClaimCheckCodec({ store: blobStoreOf(config), thresholdBytes: config.payloadOffloadBytes });
  const server = await startCodecServer({ ...listen, codec, log });
  log.info(`serving ${server.url}`, {
    blobs: blobDirOf(config.dataDir),
    origins: listen.allowedOrigins.join(','),
    auth: listen.token === undefined ? 'none' : 'bearer token',
  });
  const ready: CodecReadyMessage = { type: 'ready', url: server.url };
  process.send?.(ready);
  await stopRequested();
  log.info('stopping');
  await server.close();
  releaseSupervisor();
}

runMain(main);
