/**
 * The embedded stack `npm run load` drives when no `--target` is given: the same components as `npm start`
 * (data-plane/supervisor `embeddedStack` + `Supervisor`: dev server, simulator, one worker, gateway; no codec
 * server) on free ports, in a temporary data folder, with the simulator at {@link loadTimeScale}. Children's
 * output goes to a log file, not the terminal, so k6's output stays readable; the last lines are shown when
 * the stack fails to start.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configDefaults, loadConfig } from '../../common/config';
import { createLogger, type Logger } from '../../common/log';
import { ensureTool } from '../../common/toolchain';
import { embeddedStack } from '../../data-plane/supervisor/embedded-stack';
import { freePort, freePortRange } from '../../data-plane/supervisor/ports';
import { httpReady, waitUntil } from '../../data-plane/supervisor/readiness';
import { Supervisor } from '../../data-plane/supervisor/supervisor';
import { poolProfileSchema } from '../../sim/profile';
import { agentModelsOf } from '../bench/e2e/run';
import type { BenchWorkload } from '../bench/workloads/types';
import { loadTimeScale } from './options';

export interface LoadStack {
  /** The gateway's base URL. */
  url: string;
  /** The simulator's time scale in force. */
  timeScale: number;
  /** The file with every child's output. */
  logFile: string;
  /** Stops every process and removes the data folder; idempotent. */
  stop(): Promise<void>;
}

export interface LoadStackOptions {
  log: Logger;
  /** File for the children's output. */
  logFile: string;
  /** A bearer token to configure (tenant `load`); none: loopback without tokens. */
  token?: string;
  /** The environment the stack's settings come from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /**
   * A benchmark workload (load-tests/bench/workloads/) whose simulator replicas, agent bindings and worker
   * environment the stack takes, at the workload's default time scale unless NALAR_SIM_TIME_SCALE is set
   * (`npm run load -- router`). @default the default simulator (NALAR_SIM_REPLICAS replicas of one model)
   */
  workload?: BenchWorkload;
}

/** Starts the stack and waits until the gateway's /readyz answers; on failure nothing is left running. */
export async function startLoadStack(o: LoadStackOptions): Promise<LoadStack> {
  const base = o.env ?? process.env;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-load-'));
  const fd = openSync(o.logFile, 'w');
  const [temporal, ui, gateway] = [await freePort(), await freePort(), await freePort()];
  const timeScale = base.NALAR_SIM_TIME_SCALE || String(o.workload?.defaultTimeScale.value ?? loadTimeScale);
  const profile =
    o.workload &&
    poolProfileSchema.parse(o.workload.simProfile({ seed: configDefaults.simSeed, timeScale: Number(timeScale) }));
  const replicas = profile ? String(profile.replicas.length) : base.NALAR_SIM_REPLICAS || '2';
  const sim = await freePortRange(Number(replicas) || 2);
  const workloadEnv: NodeJS.ProcessEnv = {};
  if (o.workload && profile) {
    const profileFile = path.join(dataDir, 'sim-profile.json');
    writeFileSync(profileFile, JSON.stringify({ replicas: profile.replicas }));
    const baseUrls = profile.replicas.map((_, i) => `http://127.0.0.1:${sim + i}/v1`);
    Object.assign(workloadEnv, {
      NALAR_SIM_PROFILE: profileFile,
      NALAR_SIM_SEED: String(profile.seed),
      NALAR_AGENT_MODELS: JSON.stringify(agentModelsOf(o.workload.agentReplicas(), profile, baseUrls)),
      ...o.workload.workerEnv?.({ seed: profile.seed, timeScale: profile.timeScale }),
    });
  }
  const env: NodeJS.ProcessEnv = {
    ...base,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporal}`,
    NALAR_DEV_SERVER: 'true',
    NALAR_DEV_SERVER_UI_PORT: String(ui),
    NALAR_DATA_DIR: dataDir,
    NALAR_CODEC_PORT: '0',
    NALAR_GATEWAY_PORT: String(gateway),
    NALAR_GATEWAY_HOST: '127.0.0.1',
    NALAR_SIM: 'true',
    NALAR_SIM_PORT: String(sim),
    NALAR_SIM_REPLICAS: replicas,
    NALAR_SIM_TIME_SCALE: timeScale,
    NALAR_METRICS_PORT: '0',
    NALAR_WORKERS: '1',
    // The load test measures the stack, not the per-tenant limiter: lift it unless the caller set it.
    NALAR_GATEWAY_RATE: base.NALAR_GATEWAY_RATE || '100000',
    NALAR_GATEWAY_BURST: base.NALAR_GATEWAY_BURST || '100000',
    NALAR_GATEWAY_MAX_RUNS: base.NALAR_GATEWAY_MAX_RUNS || '100000',
    NALAR_GATEWAY_TOKENS: o.token ? JSON.stringify({ [o.token]: 'load' }) : '',
    ...workloadEnv,
  };
  const config = loadConfig({ env });
  const temporalBin = await ensureTool('temporal', {
    toolsDir: config.toolsDir,
    explicitPath: config.temporalBin,
    log: o.log,
  });
  const components = embeddedStack({ config, temporalBin, env });
  let open = true;
  const write = (line: string) => {
    if (open) writeSync(fd, line + '\n');
  };
  // The supervisor's progress goes to the file; its warnings and errors (a process exited) also to the terminal.
  const file = createLogger('stack', 'debug', write);
  const quiet: Logger = {
    debug: file.debug,
    info: file.info,
    warn: (m, f) => (file.warn(m, f), o.log.warn(m, f)),
    error: (m, f) => (file.error(m, f), o.log.error(m, f)),
  };
  const supervisor = new Supervisor(components, {
    log: quiet,
    sink: (name, _stream, line) => write(`[${name}] ${line}`),
    readinessTimeoutMs: config.readinessTimeout,
    shutdownGraceMs: config.shutdownGrace,
  });
  const url = `http://127.0.0.1:${gateway}`;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= supervisor.stop(0).finally(() => {
      open = false;
      closeSync(fd);
      rmSync(dataDir, { recursive: true, force: true });
    }));
  try {
    await supervisor.start();
    if (supervisor.stopRequested) throw new Error('a process of the stack exited while it started');
    await waitUntil(() => httpReady(`${url}/readyz`), {
      what: `the gateway's ${url}/readyz`,
      timeoutMs: config.readinessTimeout,
    });
  } catch (err) {
    await stop();
    const tail = readFileSync(o.logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
    throw new Error(`the embedded stack did not start: ${err instanceof Error ? err.message : String(err)}\n${tail}`, {
      cause: err,
    });
  }
  return { url, timeScale: Number(env.NALAR_SIM_TIME_SCALE), logFile: o.logFile, stop };
}
