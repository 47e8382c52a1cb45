/**
 * `hello`: helloAgentWorkflow (one agent call through the simulator) started and awaited in one request
 * (wait mode). Full profiles: 5/s by default, p95 of the request under 5 s.
 */
import { runWorkflowWait } from './lib/gateway.js';
import { scenarioOptions } from './lib/profile.js';
import { handleSummary } from './lib/summary.js';

export const options = scenarioOptions('hello', 'hello', { rate: 5, p95Ms: 5000, iterationSeconds: 3 });

export function hello() {
  runWorkflowWait('helloAgentWorkflow', { question: `What is Nalar? (vu ${__VU}, iteration ${__ITER})` });
}

export { handleSummary };
