/** Model-backed agent activities and their failure types. */
export { callLlm, createLlmActivities, type CallLlmInput, type CallLlmResult, type LlmConfig } from './call-llm';
export { LlmFailureType } from './errors';
