/**
 * The load profiles every scenario shares, picked by `__ENV.PROFILE`:
 * - `smoke`: constant arrival rate, a few seconds at a low rate; thresholds only on correctness (no failed
 *   request, all checks pass) and a latency bound generous enough for a loaded CI machine. For `npm test`.
 * - `constant` (default): constant arrival rate `RATE` per second for `DURATION`; strict thresholds.
 * - `ramping`: ramping arrival rate from 1/s up to `RATE` over `DURATION`, held for `DURATION`, then down to
 *   zero over half of it; strict thresholds.
 * Arrivals are open-loop: an iteration starts on schedule whether or not earlier ones finished; when no VU is
 * free it is dropped and counted in `dropped_iterations`.
 */

let meta;

/**
 * What {@link scenarioOptions} chose: scenario, profile, executor, rate, duration. Kept here because k6
 * replaces the exported `options` with its consolidated copy, which `handleSummary` cannot rely on.
 */
export function runMeta() {
  return meta;
}

/** The profile names. */
export const profiles = ['smoke', 'constant', 'ramping'];

/** Seconds of a k6 duration string (`90s`, `2m`, `1h`, or a plain number of seconds). */
export function seconds(duration) {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(String(duration).trim());
  if (!m) throw new Error(`DURATION: ${duration} is not a duration like 30s, 2m`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] || 's'];
}

/** The PROFILE of this run (default `constant`); an unknown one is an error. */
function selectedProfile() {
  const profile = __ENV.PROFILE || 'constant';
  if (!profiles.includes(profile)) throw new Error(`PROFILE: ${profile} is not one of ${profiles.join(', ')}`);
  return profile;
}

/** Thresholds of every scenario: correctness-only for smoke, with the scenario's p95 bound for the full profiles. */
function baseThresholds(name, smoke, p95Ms) {
  return smoke
    ? {
        http_req_failed: ['rate==0'],
        checks: ['rate==1'],
        // Catches hangs only: a loaded CI machine may be slow, never wrong.
        [`http_req_duration{scenario:${name}}`]: ['p(95)<60000'],
      }
    : {
        http_req_failed: ['rate<0.01'],
        checks: ['rate>0.99'],
        [`http_req_duration{scenario:${name}}`]: [`p(95)<${p95Ms}`],
      };
}

/** The k6 `options` object of one scenario. */
function k6Options(name, scenario, thresholds, profile) {
  return {
    scenarios: { [name]: scenario },
    thresholds,
    summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'],
    tags: { profile },
  };
}

/**
 * The k6 `options` of scenario `name` running function `exec`.
 * @param spec.rate default iterations per second of the full profiles (`RATE` overrides)
 * @param spec.p95Ms p95 bound of this scenario's HTTP requests in the full profiles
 * @param spec.iterationSeconds a generous guess of one iteration's time, to size the VU pool
 * @param spec.extraThresholds more thresholds for the full profiles (e.g. on a custom trend)
 */
export function scenarioOptions(name, exec, spec) {
  const profile = selectedProfile();
  const smoke = profile === 'smoke';
  const rate = Number(__ENV.RATE || (smoke ? 1 : spec.rate));
  if (!(rate > 0)) throw new Error(`RATE: ${__ENV.RATE} is not a positive number`);
  const duration = __ENV.DURATION || (smoke ? '5s' : '1m');
  const total = seconds(duration);
  // Enough VUs for `rate` iterations in flight for `iterationSeconds` each, at least 2.
  const vus = Math.max(2, Math.ceil(rate * spec.iterationSeconds));
  const common = {
    exec,
    timeUnit: '1s',
    preAllocatedVUs: Math.min(vus, 50),
    maxVUs: smoke ? vus * 4 : vus * 2,
    // Iterations in flight at the end get this long to finish (not counted as dropped).
    gracefulStop: smoke ? '90s' : '30s',
  };
  const scenario =
    profile === 'ramping'
      ? {
          ...common,
          executor: 'ramping-arrival-rate',
          startRate: 1,
          stages: [
            { target: rate, duration: `${total}s` },
            { target: rate, duration: `${total}s` },
            { target: 0, duration: `${Math.max(1, Math.round(total / 2))}s` },
          ],
        }
      : { ...common, executor: 'constant-arrival-rate', rate, duration: `${total}s` };
  const thresholds = {
    ...baseThresholds(name, smoke, spec.p95Ms),
    ...(!smoke && {
      // At most 1% of the planned arrivals may find no free VU.
      dropped_iterations: [`count<=${Math.ceil(0.01 * rate * total * (profile === 'ramping' ? 2 : 1))}`],
      ...spec.extraThresholds,
    }),
  };
  meta = {
    scenario: name,
    profile,
    executor: scenario.executor,
    rate,
    duration: profile === 'ramping' ? scenario.stages.map((x) => x.duration).join(' + ') : `${total}s`,
  };
  return k6Options(name, scenario, thresholds, profile);
}

/**
 * The k6 `options` of a scenario that replays recorded arrivals (a benchmark workload's seeded open-loop
 * process, written by `npm run load` to ARRIVALS_FILE; see load-tests/load/arrivals.ts) instead of a constant
 * or ramping rate: one iteration per arrival on a `shared-iterations` executor with one VU per arrival (at
 * most 300, so at most 300 in flight; later arrivals start when a VU frees up), each waiting for its offset
 * ({@link replayArrival}). Thresholds as {@link scenarioOptions}'s, without `dropped_iterations`.
 * @param run `{ rate, durationMs, seed }` of the arrivals file
 * @param count the number of arrivals
 */
export function replayOptions(name, exec, spec, run, count) {
  const profile = selectedProfile();
  const smoke = profile === 'smoke';
  const iterations = Math.max(1, count);
  const scenario = {
    exec,
    executor: 'shared-iterations',
    vus: Math.min(iterations, 300),
    iterations,
    // Every arrival's offset, plus time for the last one to finish.
    maxDuration: `${Math.ceil(run.durationMs / 1000) + spec.iterationSeconds * 4 + 60}s`,
  };
  const thresholds = baseThresholds(name, smoke, spec.p95Ms);
  meta = {
    scenario: name,
    profile,
    executor: `replayed arrivals (${count}, seed ${run.seed})`,
    rate: run.rate,
    duration: `${Math.round(run.durationMs / 1000)}s`,
  };
  return k6Options(name, scenario, thresholds, profile);
}
