/** Model-backed agent activities and their failure types. */
export {
  callLlm,
  createLlmActivities,
  type CallLlmInput,
  type CallLlmResult,
  type ChatMessage,
  type EngineReport,
  type LocalDispatch,
  type LlmConfig,
  type LlmToolCall,
  type LlmToolDefinition,
} from './call-llm';
export { LlmFailureType } from './errors';
