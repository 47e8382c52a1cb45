/**
 * Jest global setup: one real Temporal dev server for the whole run, on a free port, with a temporary
 * data folder, headless, and one simulator replica process (time scale 0.01), both started by the same
 * components as `npm start`. Test files reach them through NALAR_TEST_TEMPORAL_ADDRESS and
 * NALAR_TEST_SIM_BASE_URL.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../common/log';
import type { ManagedProcess } from '../data-plane/supervisor/managed-process';
import { freePort } from '../data-plane/supervisor/ports';
import { simulatorProcess } from '../data-plane/supervisor/simulator-process';
import { startQuietly } from '../data-plane/supervisor/start-quietly';
import { startScratchDevServer } from '../data-plane/supervisor/scratch-dev-server';

export interface TestServerState {
  procs: ManagedProcess[];
  dataDir: string;
}

/** Where the process groups of this run are recorded, so the next run can reap them if Jest was killed. */
export const processRecord = path.resolve(__dirname, '..', '.nalar', 'test-processes.json');

/**
 * Kills the process groups a previous run recorded and did not stop: a Jest run that is killed skips its
 * global teardown, and the servers (in their own process groups) would otherwise live on.
 */
function reapPreviousRun(): void {
  let pids: number[];
  try {
    pids = JSON.parse(readFileSync(processRecord, 'utf8')) as number[];
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      // Only our own servers: the pid may have been reused by an unrelated process.
      if (/temporal|sim\/main/.test(cmdline)) process.kill(-pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  rmSync(processRecord, { force: true });
}

export default async function globalSetup(): Promise<void> {
  reapPreviousRun();
  const {
    proc: temporal,
    address,
    dataDir,
    bin,
  } = await startScratchDevServer({
    toolchainLog: createLogger('test-setup', 'info'),
    dataDirPrefix: 'nalar-test-',
  });
  const simPort = await freePort();
  let sim: ManagedProcess;
  try {
    sim = await startQuietly(
      simulatorProcess({
        host: '127.0.0.1',
        basePort: simPort,
        replicas: 1,
        env: { ...process.env, NALAR_SIM_PORT: String(simPort), NALAR_SIM_REPLICAS: '1', NALAR_SIM_TIME_SCALE: '0.01' },
      }),
    );
  } catch (err) {
    await temporal.stop(5_000); // it runs in its own process group: never leave it behind
    throw err;
  }
  process.env.NALAR_TEST_TEMPORAL_ADDRESS = address;
  process.env.NALAR_TEST_TEMPORAL_BIN = bin;
  process.env.NALAR_TEST_SIM_BASE_URL = `http://127.0.0.1:${simPort}/v1`;
  (globalThis as { __nalarTestServer?: TestServerState }).__nalarTestServer = { procs: [temporal, sim], dataDir };
  mkdirSync(path.dirname(processRecord), { recursive: true });
  writeFileSync(processRecord, JSON.stringify([temporal.pid, sim.pid]));
}
