/** The unit the supervisor starts, checks and stops: one process with its ports and readiness check. */
import type { LineSink, ManagedProcess } from './managed-process';
import type { PortClaim } from './ports';

export interface StackComponent {
  /** Log prefix and name in messages, e.g. 'temporal', 'worker-1'. */
  readonly name: string;
  /** One line saying what the process is, for `--help` (the help lists the components it would start). */
  readonly description: string;
  /** True for processes that load the user's workflow and agent code: `npm run dev` restarts them on a change. */
  readonly runsUserCode?: boolean;
  /** Ports checked before anything in the stack starts. */
  readonly ports: readonly PortClaim[];
  /** Human-readable lines printed when the stack is up (URLs, addresses). */
  readonly endpoints: readonly string[];
  launch(sink: LineSink): Promise<ManagedProcess>;
  /** Resolves once the process serves; rejects on timeout or when the process exits first. */
  waitReady(proc: ManagedProcess, timeoutMs: number): Promise<void>;
}
