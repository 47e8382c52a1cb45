/** Public workflow-side API of the programming model: futures, sessions, stub types. */
export { currentSession, isNalarFuture, setSession, useSession, type NalarFuture, type NalarSinks } from './future';
export {
  agentLoop,
  defaultAgentMaxSteps,
  type AgentLoopOptions,
  type AgentLoopResult,
  type AgentLoopTool,
  type AgentMessage,
  type AgentToolCall,
  type LlmTurn,
} from './agent-loop';
export { agentStub, type Stub, type StubInput } from './stub';
export { parseWorkflowInput, withInput, type ValidatedWorkflow } from './input';
export type { CallOptions, FutureEvent, FutureMeta, FutureOr, FutureState, StubSpec } from './types';
