/**
 * `swe`: the software-engineering workload (docs/workloads/swe.md) through the gateway, with the benchmark's
 * arrival process: `npm run load -- swe` writes the seeded Poisson arrivals of `sweArrivals`
 * (load-tests/bench/workloads/swe.ts) for the run's rate and duration, and each is one job started and awaited
 * in one request (`POST /v1/workflows/sweWorkflow`, or `sweBaselineWorkflow` with VARIANT=baseline).
 * Full profiles: 0.5 jobs/s for 1 m by default, p95 of a job under 60 s.
 */
import { runWorkflowWait } from './lib/gateway.js';
import { replayOptions } from './lib/profile.js';
import { loadArrivals, replayArrival } from './lib/replay.js';
import { handleSummary } from './lib/summary.js';

const { run, arrivals } = loadArrivals('swe');
export const options = replayOptions('swe', 'swe', { p95Ms: 60000, iterationSeconds: 30 }, run, arrivals.length);

const workflow = __ENV.VARIANT === 'baseline' ? 'sweBaselineWorkflow' : 'sweWorkflow';
/** The job's own deadline (NALAR_ERR_DEADLINE_EXCEEDED after it): an open-loop load test's jobs fail with a code instead of piling up (the benchmark's job sets have none). */
const deadlineMs = 30000;

export function swe() {
  replayArrival(arrivals, (arrival) => runWorkflowWait(workflow, { ...arrival.payload, deadlineMs }, 90));
}

export { handleSummary };
