/**
 * Entry point of the simulator pool process (`npm run sim`, or started by `npm start`). Serves N
 * OpenAI-compatible replicas on consecutive ports until SIGINT/SIGTERM.
 */
import path from 'node:path';
import { describeSettings } from '../common/config';
import { buildSimAdminApp } from './admin';
import { poolProfileFromSettings, SimPool } from './pool';
import type { SimReadyMessage } from './protocol';
import { processStartup, releaseSupervisor, runMain, stopRequested } from '../common/child-process';

const usage = `Usage: npm run sim [-- --help]

Serves NALAR_SIM_REPLICAS simulated LLM replicas (OpenAI-compatible: /v1/chat/completions, /v1/models,
/health, /metrics) on NALAR_SIM_HOST (127.0.0.1), ports NALAR_SIM_PORT, NALAR_SIM_PORT+1, ... Model time runs at
NALAR_SIM_TIME_SCALE; outputs, lengths and faults follow NALAR_SIM_SEED. Per-replica profiles (speed,
batching, KV cache, faults) come from the JSON file NALAR_SIM_PROFILE. At runtime, replicas are added,
removed (drained first) and reassigned to another model through the admin API on NALAR_SIM_ADMIN_PORT
(unset: a free port, logged): GET/POST /admin/replicas, DELETE /admin/replicas/<id>,
POST /admin/replicas/<id>/reassign; changes need NALAR_SIM_ADMIN_TOKEN when it is set, else come from this
machine only (sim/README.md "Admin API"). Stop with Ctrl-C.

Settings:
${describeSettings()}`;

async function main(): Promise<void> {
  const started = processStartup(usage, process.env.NALAR_PROCESS_NAME ?? 'sim');
  if (!started) return;
  const { config, log } = started;
  const profile = poolProfileFromSettings({
    replicas: config.simReplicas,
    timeScale: config.simTimeScale,
    seed: config.simSeed,
    profileFile: config.simProfile ? path.resolve(config.simProfile) : undefined,
  });
  const pool = await SimPool.start({ profile, host: config.simHost, basePort: config.simPort });
  for (const [i, url] of pool.baseUrls.entries()) {
    const r = profile.replicas[i];
    log.info(`replica ${r?.name} serving ${r?.model} at ${url}`, { speed: r?.speed, maxNumSeqs: r?.maxNumSeqs });
  }
  const admin = buildSimAdminApp({
    pool,
    ...(config.simAdminToken !== undefined && { token: config.simAdminToken }),
  });
  try {
    const adminUrl = await admin.listen({ host: config.simHost, port: config.simAdminPort ?? 0 });
    log.info(`admin API at ${adminUrl}/admin/replicas`, { token: config.simAdminToken !== undefined });
    log.info('ready', { timeScale: profile.timeScale, seed: profile.seed });
    const ready: SimReadyMessage = { type: 'ready', baseUrls: pool.baseUrls, adminUrl };
    process.send?.(ready);
    await stopRequested();
    log.info('stopping');
  } finally {
    await admin.close();
    await pool.close();
  }
  releaseSupervisor();
}

runMain(main);
