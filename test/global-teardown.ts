/** Jest global teardown: stops the shared processes in reverse order and removes the data folder. */
import { rmSync } from 'node:fs';
import { processRecord, type TestServerState } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __nalarTestServer?: TestServerState }).__nalarTestServer;
  if (!state) return;
  for (const proc of [...state.procs].reverse()) await proc.stop(10_000);
  rmSync(state.dataDir, { recursive: true, force: true });
  rmSync(processRecord, { force: true });
}
