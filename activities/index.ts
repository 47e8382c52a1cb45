/** The activities barrel: every activity the worker registers. Workflow code imports it only as a type. */
export * from './hello-agent';
export { callLlm } from './llm';
export * from './tools';
