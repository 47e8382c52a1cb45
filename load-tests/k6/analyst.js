/**
 * `analyst`: the financial-analyst workload through the gateway (docs/workloads/analyst.md), with the
 * benchmark's own arrivals: `npm run load -- analyst` writes `load-tests/bench/workloads/analyst.ts`'s seeded
 * sessions to ARRIVALS_FILE (and, without `--target`, starts a stack with the workload's replicas at its default
 * time scale, which the think times are drawn in); each iteration replays one session at its arrival offset:
 * its turns through `POST /v1/sessions/:id/messages?workflow=analyst` (update-with-start on the first), each
 * after its think time, then `DELETE`. `VARIANT=baseline` drives the vanilla baseline instead.
 */
import { sleep } from 'k6';
import { endSession, sessionTurn, uniqueId } from './lib/gateway.js';
import { replayOptions } from './lib/profile.js';
import { loadArrivals, replayArrival } from './lib/replay.js';
import { handleSummary } from './lib/summary.js';

const { run, arrivals } = loadArrivals('analyst');
export const options = replayOptions(
  'analyst',
  'analyst',
  { p95Ms: 20000, iterationSeconds: 40 },
  run,
  arrivals.length,
);

const workflow = __ENV.VARIANT === 'baseline' ? 'analyst-baseline' : 'analyst';

export function analyst() {
  replayArrival(arrivals, (arrival) => {
    const id = uniqueId(`analyst-${arrival.id}`);
    for (const turn of arrival.payload.turns) {
      if (turn.thinkMs > 0) sleep(turn.thinkMs / 1000);
      const reply = sessionTurn(
        id,
        turn.message,
        { maxTokens: turn.maxTokens, reportTokens: turn.reportTokens },
        workflow,
      );
      if (!reply || typeof reply.reply !== 'string') break;
    }
    endSession(id);
  });
}

export { handleSummary };
