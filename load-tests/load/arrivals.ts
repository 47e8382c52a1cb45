/**
 * Scenarios whose k6 script replays a benchmark workload's arrivals (the same seeded, open-loop process as
 * `npm run bench -- <workload>`) instead of k6's constant or ramping rate: `npm run load` writes the arrivals
 * of the run's rate and duration to `arrivals.json` in the report folder and hands k6 its path (ARRIVALS_FILE);
 * the script reads it with `open()` and starts each arrival at its offset (load-tests/k6/lib/replay.js).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { analystWorkload } from '../bench/workloads/analyst';
import { routerWorkload } from '../bench/workloads/router';
import { sweArrivals } from '../bench/workloads/swe';
import type { Arrival } from '../bench/workloads/types';
import type { LoadOptions } from './options';

/** A replayed scenario: its arrival process and its default rate (arrivals per second) in the full profiles. */
export interface ArrivalScenario {
  arrivals(o: { rate: number; durationMs: number; seed: number }): Arrival[];
  defaultRate: number;
}

/** Every replayed scenario by name (a `load-tests/k6/<name>.js` each). */
export const arrivalScenarios: Readonly<Record<string, ArrivalScenario>> = {
  analyst: { arrivals: (o) => analystWorkload.arrivals(o), defaultRate: 0.5 },
  router: { arrivals: (o) => routerWorkload.arrivals(o), defaultRate: 1 },
  swe: { arrivals: sweArrivals, defaultRate: 0.5 },
};

/** Seed of the replayed arrivals (the simulator's default seed, as the benchmark's). */
export const loadArrivalsSeed = 42;

/** Seconds of a k6 duration (`90s`, `2m`, `1h`, or plain seconds), as load-tests/k6/lib/profile.js reads it. */
export function durationSeconds(duration: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(duration.trim());
  if (!m) throw new Error(`duration ${duration} is not like 30s, 2m`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/**
 * Writes the arrivals of a replayed scenario to `<out>/arrivals.json` (`{ rate, durationMs, seed, arrivals }`)
 * and returns its path; undefined for a scenario that is not replayed. The rate and duration are the run's
 * (smoke: 1/s for 5 s; otherwise the scenario's default rate for 1 m), the same defaults as the k6 profiles;
 * a smoke run always has at least one arrival.
 */
export function writeScenarioArrivals(o: LoadOptions): string | undefined {
  const scenario = arrivalScenarios[o.scenario];
  if (!scenario) return undefined;
  const smoke = o.profile === 'smoke';
  const rate = o.rate ?? (smoke ? 1 : scenario.defaultRate);
  const durationMs = durationSeconds(o.duration ?? (smoke ? '5s' : '1m')) * 1000;
  let arrivals = scenario.arrivals({ rate, durationMs, seed: loadArrivalsSeed });
  if (smoke && arrivals.length === 0) {
    // A smoke run must send something: the first arrival of a longer draw (bounded), at once.
    let first: Arrival[] = [];
    for (let ms = durationMs * 2; first.length === 0 && ms <= 1e9; ms *= 2) {
      first = scenario.arrivals({ rate, durationMs: ms, seed: loadArrivalsSeed }).slice(0, 1);
    }
    arrivals = first.map((a) => ({ ...a, atMs: 0 }));
  }
  const file = path.join(o.out, 'arrivals.json');
  writeFileSync(file, JSON.stringify({ rate, durationMs, seed: loadArrivalsSeed, arrivals }) + '\n');
  return file;
}
