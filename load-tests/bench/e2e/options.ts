/**
 * The options of `npm run bench -- analyst|router|swe`: their defaults (a workload's own defaults where the
 * option says so), the `--help` lines, and the parser (flags in pairs, `--flag value`; a bad value or an
 * unknown flag is an error naming it).
 */
import { configDefaults, durationMs } from '../../../common/config';
import { parsePolicyList, resolvePolicies } from '../../../control-plane/global-controller/policy-config';
import { builtInPolicies } from '../../../control-plane/policies';
import type { BenchVariant } from '../workloads/types';

/** Both variants, in the order the first rate plays them (later rates alternate). */
export const allVariants: readonly BenchVariant[] = ['nalar', 'baseline'];

/** Options of one end-to-end benchmark run; `undefined` fields take the workload's default. */
export interface E2eBenchOptions {
  /** Offered rates (arrivals per second), played low to high. @default the workload's `defaultRates` */
  rates?: number[];
  /** Real seconds of arrivals per rate step. @default the workload's `defaultStepSeconds` */
  stepSeconds?: number;
  /** Seed of the arrivals and of the simulator. @default 42 */
  seed: number;
  /** Simulator time scale (real ms per model ms). @default the workload's `defaultTimeScale.value` */
  timeScale?: number;
  /** Variants to run, each at every rate. @default ['nalar', 'baseline'] */
  variants: BenchVariant[];
  /**
   * Real seconds to wait after a step's last arrival for requests still running; those still running then
   * are failed records with `errorCode: 'TIMEOUT'` (and their workflows are terminated).
   * @default the workload's `defaultDrainSeconds`, else 30
   */
  drainSeconds?: number;
  /** Nalar worker processes polling the task queue. @default 1 */
  workers: number;
  /**
   * Requests per variant played one at a time before the grid and not recorded, so that start-up costs
   * (workflow bundle, connections, JIT) do not land in the low-load mean the capacity bound is based on.
   * They come from arrivals of another seed, with ids prefixed `warmup-`. @default 3
   */
  warmup: number;
  /** The global controller's policies, NALAR_POLICIES syntax. @default NALAR_POLICIES' default */
  policies?: string;
  /** The control period in ms. @default NALAR_CONTROL_PERIOD's default */
  controlPeriodMs?: number;
}

/** Drain of a workload that sets no `defaultDrainSeconds`. */
export const defaultDrainSeconds = 30;

export const defaultE2eBenchOptions: E2eBenchOptions = {
  seed: 42,
  variants: [...allVariants],
  workers: 1,
  warmup: 3,
};

/** The options lines of `npm run bench -- --help` for the workload benchmarks. */
export const e2eBenchOptionsUsage = `         options: --rates R,R,...  --step-seconds S  --seed N  --time-scale X  --variants nalar,baseline
                  --drain-seconds S  --workers N  --warmup N  --policies P,P,...  --control-period MS
         (defaults: the workload's rate grid, step length and time scale; seed ${defaultE2eBenchOptions.seed}; both variants;
          the workload's drain for stragglers (${defaultDrainSeconds} s unless it sets one), then TIMEOUT; ${defaultE2eBenchOptions.workers} worker process; ${defaultE2eBenchOptions.warmup} unrecorded
          warm-up requests per variant; the global controller's policies: NALAR_POLICIES' default (${configDefaults.policies}),
          '[]' for none; control period ${durationMs(configDefaults.controlPeriod)} ms)`;

/** Parses the options after the workload's name. */
export function parseE2eBenchOptions(args: readonly string[]): E2eBenchOptions {
  const o: E2eBenchOptions = { ...defaultE2eBenchOptions, variants: [...defaultE2eBenchOptions.variants] };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const positive = (v: string = value) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got ${v}`);
      return n;
    };
    const whole = (min: number) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs a whole number >= ${min}, got ${value}`);
      return n;
    };
    switch (flag) {
      case '--rates': {
        const rates = value.split(',').map((v) => positive(v));
        o.rates = [...new Set(rates)].sort((a, b) => a - b);
        break;
      }
      case '--step-seconds':
        o.stepSeconds = positive();
        break;
      case '--seed':
        o.seed = whole(0);
        break;
      case '--time-scale':
        o.timeScale = positive();
        break;
      case '--variants': {
        const names = value.split(',').filter((v) => v !== '');
        if (names.length === 0) throw new Error('--variants needs at least one of nalar, baseline');
        o.variants = names.map((v) => {
          if (!(allVariants as readonly string[]).includes(v)) {
            throw new Error(`--variants: unknown variant '${v}' (${allVariants.join(', ')})`);
          }
          return v as BenchVariant;
        });
        o.variants = [...new Set(o.variants)];
        break;
      }
      case '--drain-seconds': {
        const n = Number(value);
        if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a number >= 0, got ${value}`);
        o.drainSeconds = n;
        break;
      }
      case '--workers':
        o.workers = whole(1);
        break;
      case '--warmup':
        o.warmup = whole(0);
        break;
      case '--policies':
        // Checked now, so a typo fails before the stack starts.
        resolvePolicies(parsePolicyList(value, flag), builtInPolicies, flag);
        o.policies = value;
        break;
      case '--control-period':
        o.controlPeriodMs = positive();
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}
