/**
 * `router`: the router workload (docs/workloads/router.md) through the gateway, replaying the arrivals of
 * the benchmark's trace (`npm run load -- router` writes them to `ARRIVALS`: the Azure-shaped trace whose mix
 * shifts from 95% chat to 95% coding, at `--rate` for `--duration`). Each arrival is one request in wait mode
 * to `routerWorkflow` (`VARIANT=baseline`: `routerBaselineWorkflow`). Full profiles: p95 under 30 s.
 */
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import { runWorkflowWait } from './lib/gateway.js';
import { traceScenarioOptions } from './lib/profile.js';
import { handleSummary } from './lib/summary.js';

if (!__ENV.ARRIVALS) throw new Error('ARRIVALS: run this scenario with `npm run load -- router`, which writes them');
const variant = __ENV.VARIANT || 'nalar';
if (variant !== 'nalar' && variant !== 'baseline') throw new Error(`VARIANT: ${variant} is not nalar or baseline`);

// k6's init-context `open` reads a file; it is not one of the globals the lint config lists.
/* global open */
const arrivals = new SharedArray('arrivals', () => JSON.parse(open(__ENV.ARRIVALS)).arrivals);

export const options = traceScenarioOptions(
  'router',
  'router',
  Array.from({ length: arrivals.length }, (_, i) => arrivals[i].atMs),
  { p95Ms: 30000, iterationSeconds: 10 },
);

export function router() {
  const arrival = arrivals[exec.scenario.iterationInTest];
  // The executor's per-second rates round: an iteration beyond the trace's last arrival has nothing to send.
  if (!arrival) return;
  const request = arrival[variant];
  runWorkflowWait(request.workflow, request.input, Math.ceil(request.input.deadlineMs / 1000) + 30);
}

export { handleSummary };
