/** Starting one component outside the supervisor (test setup, benchmarks): quiet unless it fails. */
import { msToNumber } from '@temporalio/common';
import { configDefaults } from '../../common/config';
import type { StackComponent } from './component';
import type { ManagedProcess } from './managed-process';

export interface StartQuietlyOptions {
  /** @default NALAR_READINESS_TIMEOUT's default (60 seconds) */
  timeoutMs?: number;
  /** Where the last lines of output go when the component fails to start. @default console.error */
  onFailure?: (output: string) => void;
}

/**
 * Launches the component and waits until it is ready, keeping its output out of the way; if it fails to
 * start, prints its last 30 lines and stops it (it runs in its own process group: never leave it behind).
 */
export async function startQuietly(
  component: StackComponent,
  options: StartQuietlyOptions = {},
): Promise<ManagedProcess> {
  const lines: string[] = [];
  const proc = await component.launch((_name, _stream, line) => {
    lines.push(line);
    if (lines.length > 200) lines.splice(0, lines.length - 100);
  });
  try {
    await component.waitReady(proc, options.timeoutMs ?? msToNumber(configDefaults.readinessTimeout));
  } catch (err) {
    (options.onFailure ?? console.error)(lines.slice(-30).join('\n'));
    await proc.stop(5_000);
    throw err;
  }
  return proc;
}
