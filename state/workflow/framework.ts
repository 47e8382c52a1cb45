/**
 * The state layer's own workflows. Every Nalar worker registers them next to the user's workflows
 * (data-plane/worker/bundle.ts), so session moves work whatever the user's `workflows/index.ts` holds.
 * Export workflows only: every function exported here becomes a workflow type.
 */
export { moveSessionWorkflow } from './move-session';
