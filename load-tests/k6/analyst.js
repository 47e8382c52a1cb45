/**
 * `analyst`: the financial-analyst workload through the gateway (docs/workloads/analyst.md), with the
 * benchmark's own arrivals: `npm run load -- analyst` writes `load-tests/bench/workloads/analyst.ts`'s seeded
 * sessions to the file `ARRIVALS` names; each iteration replays one session at its arrival offset: its turns
 * through `POST /v1/sessions/:id/messages?workflow=analyst` (update-with-start on the first), each after its
 * think time (scaled by `THINK_SCALE`, the stack's time scale over the benchmark's), then `DELETE`.
 * `WORKFLOW=analyst-baseline` drives the vanilla baseline instead.
 */
/* global open */
import { sleep } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import { endSession, sessionTurn, uniqueId } from './lib/gateway.js';
import { replayOptions } from './lib/profile.js';
import { handleSummary } from './lib/summary.js';

if (!__ENV.ARRIVALS) throw new Error('ARRIVALS: the arrivals file (npm run load -- analyst writes it)');
const recorded = JSON.parse(open(__ENV.ARRIVALS));
const arrivals = new SharedArray('arrivals', () => recorded.arrivals);
const thinkScale = Number(__ENV.THINK_SCALE || 1);
const workflow = __ENV.WORKFLOW || 'analyst';

export const options = replayOptions('analyst', 'analyst', {
  count: arrivals.length,
  spanSeconds: arrivals.length ? arrivals[arrivals.length - 1].atMs / 1000 : 0,
  rate: recorded.rate,
  p95Ms: 20000,
  extraThresholds: { session_turn_duration: ['p(95)<20000'] },
});

export function analyst() {
  const arrival = arrivals[exec.scenario.iterationInTest];
  if (!arrival) return;
  // Open loop: wait for this session's arrival time, whatever earlier sessions are doing.
  const wait = arrival.atMs / 1000 - (Date.now() - exec.scenario.startTime) / 1000;
  if (wait > 0) sleep(wait);
  const id = uniqueId(`analyst-${arrival.id}`);
  for (const turn of arrival.payload.turns) {
    if (turn.thinkMs > 0) sleep((turn.thinkMs * thinkScale) / 1000);
    const reply = sessionTurn(
      id,
      turn.message,
      { maxTokens: turn.maxTokens, reportTokens: turn.reportTokens },
      workflow,
    );
    if (!reply || typeof reply.reply !== 'string') break;
  }
  endSession(id);
}

export { handleSummary };
