/** Jest global teardown: stops the shared dev server and removes its data folder. */
import { rmSync } from 'node:fs';
import type { TestServerState } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __nalarTestServer?: TestServerState }).__nalarTestServer;
  if (!state) return;
  await state.proc.stop(10_000);
  rmSync(state.dataDir, { recursive: true, force: true });
}
