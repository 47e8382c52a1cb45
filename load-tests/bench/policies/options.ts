/**
 * The options of `npm run bench -- policies`: its own (`--workload`, `--seeds`, `--base-policies`) and the
 * workload runner's that apply (parsed by the e2e parser), their defaults and the `--help` lines.
 */
import { configDefaults, durationMs } from '../../../common/config';
import { parsePolicyList, resolvePolicies } from '../../../control-plane/global-controller/policy-config';
import { e2eSettings, isWorkloadName, parseE2eBenchOptions, type E2eBenchOptions } from '../e2e';
import { defaultE2eBenchOptions } from '../e2e/options';
import type { E2eRunSettings } from '../e2e/run';
import type { BenchWorkload } from '../workloads/types';
import type { WorkloadName } from '../e2e/workloads';
import type { PolicySetName } from './stats';

/** Options of one policies benchmark run. */
export interface PoliciesBenchOptions {
  /** The workload whose Nalar variant plays every set. @default 'swe' */
  workload: WorkloadName;
  /** Seeds of the arrivals; every seed plays every rate (the simulator takes the first). @default [42] */
  seeds: number[];
  /**
   * The default policy set; `srtf` and `lpt` add their policy to it. @default NALAR_POLICIES' default
   */
  basePolicies: string;
  /** Offered rates, arrivals/s. @default {@link defaultPolicyRates} for swe, else the upper half of the workload's grid */
  rates?: number[];
  /** Real seconds of arrivals per segment. @default {@link defaultPolicyStepSeconds} */
  stepSeconds?: number;
  /** The e2e runner's remaining options (time scale, drain, workers, warm-up, control period). */
  e2e: E2eBenchOptions;
}

/**
 * swe's rates near its capacity (its replicas queue a whole set and its jobs have no deadline, so no job fails):
 * at 1 and 1.5 jobs/s a job waited little (mean 7.7 and 8.9 s against 7.8 s alone); at 1.5 and 2 queues form at
 * the developers and the tester, which is where the order of waiting calls matters.
 */
export const defaultPolicyRates: Partial<Record<WorkloadName, readonly number[]>> = { swe: [1.5, 2] };

/** 60 s of arrivals: 90 and 120 swe jobs per segment at the default rates; 6 segments fit the 12-minute budget. */
export const defaultPolicyStepSeconds = 60;

export const defaultPoliciesBenchOptions: PoliciesBenchOptions = {
  workload: 'swe',
  seeds: [42],
  basePolicies: configDefaults.policies,
  e2e: { ...defaultE2eBenchOptions, variants: ['nalar'] },
};

/** The NALAR_POLICIES list of each set. */
export function policySets(basePolicies: string): Record<PolicySetName, string> {
  const base = basePolicies.trim();
  const plus = (name: string) =>
    base.startsWith('[') ? JSON.stringify([...parsePolicyList(base, '--base-policies'), name]) : `${base},${name}`;
  return { default: base, srtf: plus('srtf'), lpt: plus('lpt') };
}

/** The `--help` lines. */
export const policiesBenchUsage = `  policies  SRTF's mean completion time and LPT's makespan against the default policies: one workload's Nalar
         variant on one stack, the same seeded arrivals under each policy set back to back per rate (order
         alternating), the set swapped on the running global controller
         options: --workload NAME  --rates R,R,...  --step-seconds S  --seeds N,N,...  --base-policies P,P,...
                  --time-scale X  --drain-seconds S  --workers N  --warmup N  --control-period MS
         (defaults: workload ${defaultPoliciesBenchOptions.workload}; rates ${defaultPolicyRates.swe?.join(',')} for swe, else the upper half of the workload's grid;
          ${defaultPolicyStepSeconds} s per segment; seed ${defaultPoliciesBenchOptions.seeds.join(',')}; sets: default = NALAR_POLICIES' default
          (${configDefaults.policies}), srtf = default + srtf, lpt = default + lpt;
          the rest as the workload benchmarks; control period ${durationMs(configDefaults.controlPeriod)} ms)`;

/** Parses the options after `policies`; an unknown flag or bad value is an error naming it. */
export function parsePoliciesBenchOptions(args: readonly string[]): PoliciesBenchOptions {
  const o: PoliciesBenchOptions = { ...defaultPoliciesBenchOptions, seeds: [...defaultPoliciesBenchOptions.seeds] };
  const rest: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    switch (flag) {
      case '--workload':
        if (!isWorkloadName(value)) throw new Error(`--workload: unknown workload '${value}'`);
        o.workload = value;
        break;
      case '--seeds':
        o.seeds = [
          ...new Set(
            value.split(',').map((v) => {
              const n = Number(v);
              if (!Number.isInteger(n) || n < 0) throw new Error(`--seeds needs whole numbers >= 0, got ${v}`);
              return n;
            }),
          ),
        ];
        break;
      case '--base-policies':
        // Checked now, so a typo fails before the stack starts.
        for (const list of Object.values(policySets(value))) {
          resolvePolicies(parsePolicyList(list, flag), undefined, flag);
        }
        o.basePolicies = value;
        break;
      case '--variants':
      case '--policies':
      case '--seed':
        throw new Error(`${flag} does not apply to the policies benchmark (see --help)`);
      default:
        rest.push(flag, value);
    }
  }
  const e2e = parseE2eBenchOptions(rest);
  return {
    ...o,
    ...(e2e.rates && { rates: e2e.rates }),
    ...(e2e.stepSeconds !== undefined && { stepSeconds: e2e.stepSeconds }),
    e2e: { ...e2e, variants: ['nalar'], seed: o.seeds[0] as number },
  };
}

/** The upper half of a grid (its top rate when it has one). */
export function upperHalf(rates: readonly number[]): number[] {
  const sorted = [...rates].sort((a, b) => a - b);
  return sorted.slice(Math.floor(sorted.length / 2));
}

/** The runner's settings: the Nalar variant only, the default set installed first, this bench's rates and step. */
export function policiesSettings(workload: BenchWorkload, o: PoliciesBenchOptions): E2eRunSettings {
  const rates = o.rates ?? [...(defaultPolicyRates[workload.name as WorkloadName] ?? upperHalf(workload.defaultRates))];
  return {
    ...e2eSettings(workload, { ...o.e2e, rates, stepSeconds: o.stepSeconds ?? defaultPolicyStepSeconds }),
    policies: o.basePolicies,
  };
}
