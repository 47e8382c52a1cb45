/**
 * `pipeline`: textPipelineWorkflow (tool calls fanned out per sentence) started in async mode, then polled
 * with `GET /v1/runs/:id` until it closes. Full profiles: 5/s by default, p95 of each request under 1 s.
 */
import { runWorkflowAsync } from './lib/gateway.js';
import { scenarioOptions } from './lib/profile.js';
import { handleSummary } from './lib/summary.js';

export const options = scenarioOptions('pipeline', 'pipeline', {
  rate: 5,
  p95Ms: 1000,
  iterationSeconds: 4,
  extraThresholds: { workflow_duration: ['p(95)<10000'] },
});

const sentences = ['the quick brown fox', 'jumps over the lazy dog', 'agents call tools', 'futures resolve'];

export function pipeline() {
  runWorkflowAsync('textPipelineWorkflow', { sentences });
}

export { handleSummary };
