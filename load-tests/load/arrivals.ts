/**
 * The benchmark's arrivals for k6: a scenario named like an end-to-end workload (`load-tests/bench/workloads/
 * <scenario>.ts`) replays that workload's own seeded, open-loop arrivals through the gateway, so `npm run load`
 * and `npm run bench` drive the same traffic. This writes them to `<out>/arrivals.json` and says, in k6's
 * environment, where they are (`ARRIVALS`) and how to scale their real-time waits (`THINK_SCALE`).
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchWorkload } from '../bench/workloads/types';
import type { LoadOptions } from './options';

/** Seed of the replayed arrivals (the benchmark's default seed). */
export const loadArrivalsSeed = 42;

/** Seconds of a k6 duration string (`90s`, `2m`, `1h`, or a plain number of seconds). */
function seconds(duration: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(duration.trim());
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/** The workload module of this scenario, when there is one. */
async function workloadOf(scenario: string): Promise<BenchWorkload | undefined> {
  const file = path.join(__dirname, '..', 'bench', 'workloads', `${scenario}.ts`);
  if (!/^[a-z][a-z0-9-]*$/.test(scenario) || !existsSync(file)) return undefined;
  const mod = (await import(file)) as Record<string, unknown>;
  return Object.values(mod).find(
    (v): v is BenchWorkload =>
      typeof v === 'object' && v !== null && (v as BenchWorkload).name === scenario && 'arrivals' in v,
  );
}

/**
 * Writes the arrivals of scenario `o.scenario` (at `--rate`, default 1/s for smoke, else the workload's
 * second-lowest grid rate; over `--duration`, default 5 s for smoke, else the workload's step) and returns
 * the k6 environment that points at them; `{}` for a scenario that is not a workload.
 * @param stackTimeScale the simulator's time scale when the stack is embedded; think times are scaled from the
 *   workload's default scale to it (an external target is assumed to run at the workload's default)
 */
export async function writeScenarioArrivals(o: LoadOptions, stackTimeScale?: number): Promise<NodeJS.ProcessEnv> {
  const workload = await workloadOf(o.scenario);
  if (!workload) return {};
  const smoke = o.profile === 'smoke';
  const rate = o.rate ?? (smoke ? 1 : (workload.defaultRates[1] ?? workload.defaultRates[0] ?? 1));
  const durationMs = 1000 * (o.duration ? seconds(o.duration) : smoke ? 5 : workload.defaultStepSeconds);
  const arrivals = workload.arrivals({ rate, durationMs, seed: loadArrivalsSeed });
  const file = path.join(o.out, 'arrivals.json');
  writeFileSync(file, JSON.stringify({ workload: workload.name, rate, durationMs, seed: loadArrivalsSeed, arrivals }));
  const thinkScale = stackTimeScale === undefined ? 1 : stackTimeScale / workload.defaultTimeScale.value;
  return { ARRIVALS: file, THINK_SCALE: String(thinkScale) };
}
