/** Workflow-side API of the state layer: long sessions, and the types of the framework's session moves. */
export { shouldContinueAsNew, type LongSessionLimits } from './long-session';
export type { MoveSessionInput, MoveSessionResult } from './move-session';
