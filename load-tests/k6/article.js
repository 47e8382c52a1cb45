/**
 * `article`: writeArticleWorkflow (LLM-backed agents through the simulator, one section per topic) started
 * and awaited in one request. Full profiles: 2/s by default, p95 of the request under 15 s.
 */
import { runWorkflowWait } from './lib/gateway.js';
import { scenarioOptions } from './lib/profile.js';
import { handleSummary } from './lib/summary.js';

export const options = scenarioOptions('article', 'article', { rate: 2, p95Ms: 15000, iterationSeconds: 8 });

const topics = [['batching'], ['futures', 'replay'], ['tenants', 'fairness']];

export function article() {
  runWorkflowWait('writeArticleWorkflow', { topics: topics[__ITER % topics.length] }, 120);
}

export { handleSummary };
