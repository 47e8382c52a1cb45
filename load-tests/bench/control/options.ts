/**
 * The options of `npm run bench -- control`: their defaults (written once, here), the `--help` lines, and the
 * parser of the command line (flags in pairs, `--flag value`, plus the lone `--quick`; a bad value or an
 * unknown flag is an error naming it).
 */
import { defaultControlPeriodMs } from '../../../control-plane/global-controller/controller';

export type ControlPart = 'loop' | 'decision' | 'propagation';
export const controlParts: readonly ControlPart[] = ['loop', 'decision', 'propagation'];

export interface ControlBenchOptions {
  /** Which parts run. @default ['loop', 'decision', 'propagation'] */
  parts: ControlPart[];
  /** Live futures of the loop part (part 1). @default every power of 2 from 2^10 to 2^20 */
  sizes: number[];
  /** Emulated local controllers of the loop part. @default [32, 64] */
  nodeCounts: number[];
  /** Measured rounds per size and node count (20: the p95 is not just the worst round). @default 20 */
  rounds: number;
  /** Unmeasured rounds first (JIT, first merges). @default 2 */
  warmupRounds: number;
  /** Share of the live futures with an event in one round, over all nodes. @default 0.03 */
  churnShare: number;
  /** Share of the live futures with a call waiting in a local controller. @default 0.01 */
  waitingShare: number;
  /** Sizes of the decision part (part 2), each also in `sizes` (it reuses that size's 64-node graph). @default loop sizes up to 2^17 */
  decisionSizes: number[];
  /** Measured acquire + release calls per size, two-level. @default 20000 */
  localCalls: number;
  /** Measured calls per size through the one-level (centralised) route. @default 200 */
  centralCalls: number;
  /** Emulated nodes (real GlobalLinks) of the propagation part (part 3). @default 64 */
  links: number;
  /** Trials of the propagation part. @default 20 */
  trials: number;
  /** The control period of every part (NALAR_CONTROL_PERIOD). @default NALAR_CONTROL_PERIOD's default (250 ms) */
  periodMs: number;
  /** Seed of the synthetic graphs and churn. @default 42 */
  seed: number;
}

const allSizes = Array.from({ length: 11 }, (_, i) => 2 ** (10 + i));

export const defaultControlBenchOptions: ControlBenchOptions = {
  parts: [...controlParts],
  sizes: allSizes,
  nodeCounts: [32, 64],
  rounds: 20,
  warmupRounds: 2,
  churnShare: 0.03,
  waitingShare: 0.01,
  decisionSizes: allSizes.filter((n) => n <= 2 ** 17),
  localCalls: 20_000,
  centralCalls: 200,
  links: 64,
  trials: 20,
  periodMs: defaultControlPeriodMs,
  seed: 42,
};

/** What `--quick` changes: tiny sizes and few repetitions, a smoke run of every part in seconds. */
export const quickControlBenchOptions: Partial<ControlBenchOptions> = {
  sizes: [1024, 4096],
  nodeCounts: [4, 8],
  rounds: 3,
  warmupRounds: 1,
  decisionSizes: [1024, 4096],
  localCalls: 500,
  centralCalls: 20,
  links: 8,
  trials: 3,
};

const d = defaultControlBenchOptions;

/** The `control` lines of `npm run bench -- --help`. */
export const controlBenchUsage = `  control  the control plane at scale: global loop time against live futures (collection + policy, emulated
         local controllers), time per routing decision two-level vs one-level (every call asks the global
         controller), and decision propagation to real GlobalLinks over HTTP long polls
         options: --parts ${controlParts.join(',')}  --sizes N,N,...  --nodes N,N  --rounds N  --warmup-rounds N
                  --churn-share X  --waiting-share X  --decision-sizes N,N,...  --local-calls N
                  --central-calls N  --links N  --trials N  --period-ms N  --seed N  --quick
         (defaults: sizes 2^10..2^20 (every power of 2), ${d.nodeCounts.join(' and ')} nodes, ${d.rounds} rounds after ${d.warmupRounds} warm-up,
          ${d.churnShare * 100}% of futures with an event and ${d.waitingShare * 100}% waiting per round; decisions at ${d.decisionSizes.join(', ')} futures,
          ${d.localCalls} local and ${d.centralCalls} central calls each; ${d.links} links, ${d.trials} trials; period ${d.periodMs} ms; seed ${d.seed};
          --quick: sizes ${quickControlBenchOptions.sizes?.join(',')}, nodes ${quickControlBenchOptions.nodeCounts?.join(',')}, ${quickControlBenchOptions.links} links, a few seconds)`;

/** Parses the command line of `npm run bench -- control`; `--quick` applies first, later flags win. */
export function parseControlBenchOptions(args: string[]): ControlBenchOptions {
  const o: ControlBenchOptions = { ...defaultControlBenchOptions };
  const rest = args.filter((a) => a !== '--quick');
  if (rest.length !== args.length) Object.assign(o, quickControlBenchOptions);
  let decisionSizesGiven = false;
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i] as string;
    const value = rest[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const whole = (v: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs whole numbers >= ${min}, got ${v}`);
      return n;
    };
    const share = () => {
      const n = Number(value);
      if (!(n > 0 && n <= 1)) throw new Error(`${flag} needs a share in (0, 1], got ${value}`);
      return n;
    };
    const list = (min: number) =>
      value
        .split(',')
        .filter((v) => v !== '')
        .map((v) => whole(v, min));
    switch (flag) {
      case '--parts':
        o.parts = value.split(',').map((p) => {
          if (!(controlParts as readonly string[]).includes(p)) {
            throw new Error(`--parts: unknown part '${p}' (${controlParts.join(', ')})`);
          }
          return p as ControlPart;
        });
        break;
      case '--sizes':
        o.sizes = list(16);
        break;
      case '--nodes':
        o.nodeCounts = list(1);
        break;
      case '--rounds':
        o.rounds = whole(value, 1);
        break;
      case '--warmup-rounds':
        o.warmupRounds = whole(value, 0);
        break;
      case '--churn-share':
        o.churnShare = share();
        break;
      case '--waiting-share':
        o.waitingShare = share();
        break;
      case '--decision-sizes':
        o.decisionSizes = list(16);
        decisionSizesGiven = true;
        break;
      case '--local-calls':
        o.localCalls = whole(value, 1);
        break;
      case '--central-calls':
        o.centralCalls = whole(value, 1);
        break;
      case '--links':
        o.links = whole(value, 1);
        break;
      case '--trials':
        o.trials = whole(value, 1);
        break;
      case '--period-ms':
        o.periodMs = whole(value, 10);
        break;
      case '--seed':
        o.seed = whole(value, 0);
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  o.sizes = [...new Set(o.sizes)].sort((a, b) => a - b);
  // The decision part reuses the loop part's graph of each size: sizes it names are added to the loop's.
  if (!decisionSizesGiven) o.decisionSizes = o.decisionSizes.filter((n) => o.sizes.includes(n));
  o.decisionSizes = [...new Set(o.decisionSizes)].sort((a, b) => a - b);
  o.sizes = [...new Set([...o.sizes, ...(o.parts.includes('decision') ? o.decisionSizes : [])])].sort((a, b) => a - b);
  return o;
}
