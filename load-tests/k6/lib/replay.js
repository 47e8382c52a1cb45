/**
 * Replaying recorded arrivals (see `replayOptions` in profile.js): the arrivals file `npm run load` writes
 * (ARRIVALS_FILE: `{ rate, durationMs, seed, arrivals: [{ id, atMs, kind, payload }] }`), read once per VU in
 * the init context, and the iteration that waits for its arrival's offset before sending it.
 */
import { sleep } from 'k6';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';

/** Reads the arrivals file: `{ run: { rate, durationMs, seed }, arrivals }`. Call it in the init context. */
export function loadArrivals(scenario) {
  const file = __ENV.ARRIVALS_FILE;
  if (!file) throw new Error(`ARRIVALS_FILE is not set: run this scenario with npm run load -- ${scenario}`);
  const arrivals = new SharedArray(`${scenario}-arrivals`, () => JSON.parse(open(file)).arrivals);
  const [run] = new SharedArray(`${scenario}-run`, () => {
    const d = JSON.parse(open(file));
    return [{ rate: d.rate, durationMs: d.durationMs, seed: d.seed }];
  });
  return { run, arrivals };
}

/** Runs `send(arrival)` for this iteration's arrival at its offset from the start of the scenario. */
export function replayArrival(arrivals, send) {
  const arrival = arrivals[exec.scenario.iterationInTest];
  if (!arrival) return;
  const waitSeconds = (arrival.atMs - (Date.now() - exec.scenario.startTime)) / 1000;
  if (waitSeconds > 0) sleep(waitSeconds);
  send(arrival);
}
