/**
 * `router`: the router workload (docs/workloads/router.md) through the gateway, with the benchmark's arrival
 * process: `npm run load -- router` writes the arrivals of the Azure-shaped trace (load-tests/bench/workloads/
 * router.ts; its mix shifts from 95% chat to 95% coding, or NALAR_ROUTER_TRACE's real files) for the run's
 * rate and duration, and each is one request started and awaited in one call (`POST
 * /v1/workflows/routerWorkflow`, or `routerBaselineWorkflow` with VARIANT=baseline). Full profiles: 1 request/s
 * for 1 m by default, p95 under 30 s.
 */
import { runWorkflowWait } from './lib/gateway.js';
import { replayOptions } from './lib/profile.js';
import { loadArrivals, replayArrival } from './lib/replay.js';
import { handleSummary } from './lib/summary.js';

const { run, arrivals } = loadArrivals('router');
export const options = replayOptions('router', 'router', { p95Ms: 30000, iterationSeconds: 10 }, run, arrivals.length);

const workflow = __ENV.VARIANT === 'baseline' ? 'routerBaselineWorkflow' : 'routerWorkflow';
/** The request's deadline (NALAR_ERR_DEADLINE_EXCEEDED after it): the benchmark's at time scale 1. */
const deadlineMs = 60000;

export function router() {
  replayArrival(arrivals, (arrival) => runWorkflowWait(workflow, { ...arrival.payload, deadlineMs }, 90));
}

export { handleSummary };
