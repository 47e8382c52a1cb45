/** The workflow registration barrel: the worker's single `workflowsPath`. Re-export every workflow here. */
export * from './analyst';
export * from './analyst-baseline';
export * from './chat-session';
export * from './hello-agent';
export * from './research';
export * from './router';
export * from './router-baseline';
export * from './swe';
export * from './swe-baseline';
export * from './text-pipeline';
export * from './write-article';
