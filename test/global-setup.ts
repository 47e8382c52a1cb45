/**
 * Jest global setup: one real Temporal dev server for the whole run, on a free port, with a temporary
 * data folder, headless. Its address reaches the test files as NALAR_TEST_TEMPORAL_ADDRESS.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/log';
import { ensureTool } from '../common/toolchain';
import type { ManagedProcess } from '../control-plane/supervisor/managed-process';
import { freePort } from '../control-plane/supervisor/ports';
import { temporalDevServer } from '../control-plane/supervisor/temporal-dev-server';

export interface TestServerState {
  proc: ManagedProcess;
  dataDir: string;
}

export default async function globalSetup(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('test-setup', 'info');
  const bin = await ensureTool('temporal', { toolsDir: config.toolsDir, explicitPath: config.temporalBin, log });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nalar-test-'));
  const address = `127.0.0.1:${await freePort()}`;
  const server = temporalDevServer({ bin, address, namespace: 'default', dataDir });
  // Keep the server's output out of the test report unless it fails to start.
  const lines: string[] = [];
  const proc = await server.launch((_name, _stream, line) => lines.push(line));
  try {
    await server.waitReady(proc, 60_000);
  } catch (err) {
    console.error(lines.slice(-30).join('\n'));
    await proc.stop(5_000);
    throw err;
  }
  process.env.NALAR_TEST_TEMPORAL_ADDRESS = address;
  process.env.NALAR_TEST_TEMPORAL_BIN = bin;
  (globalThis as { __nalarTestServer?: TestServerState }).__nalarTestServer = { proc, dataDir };
}
