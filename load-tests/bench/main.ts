/**
 * `npm run bench -- <name> [options]`: runs one benchmark and ends with exactly one line of JSON (see
 * shared BENCHMARKS.md). Exits non-zero only when the benchmark could not run; a missed target is a result.
 */
import { controlOutageUsage, parseControlOutageOptions, runControlOutageBench } from './control-outage';
import { defaultFuturesBenchOptions, runFuturesBench, type FuturesBenchOptions } from './futures-bench';
import { defaultGatewayBenchOptions, runGatewayBench, type GatewayBenchOptions } from './gateway-bench';
import { defaultSimBenchOptions, runSimBench, type SimBenchOptions } from './sim-bench';
import { parseStateBenchOptions, runStateBench, stateBenchUsage } from './state';
import { controlBenchUsage, parseControlBenchOptions, runControlBench } from './control';
import { parsePoliciesBenchOptions, policiesBenchUsage, runPoliciesBench } from './policies';
import { parseScalingOptions, runScalingBench, scalingUsage } from './scaling';
import {
  availableWorkloads,
  e2eBenchOptionsUsage,
  isWorkloadName,
  parseE2eBenchOptions,
  runE2eBench,
  workloadNames,
} from './e2e';

const usage = `Usage: npm run bench -- <name> [options]

Benchmarks:
  sim    the model simulator: batching curve of one replica, then sustained concurrency on two
         options: --levels 1,8,32,...  --level-seconds N  --curve-time-scale X
                  --sustain-concurrency N  --sustain-seconds N  --sustain-time-scale X  --seed N
         (defaults: levels ${defaultSimBenchOptions.levels.join(',')}, ${defaultSimBenchOptions.levelSeconds} s per level,
          curve time scale ${defaultSimBenchOptions.curveTimeScale}, ${defaultSimBenchOptions.sustainConcurrency} in flight for ${defaultSimBenchOptions.sustainSeconds} s at time scale ${defaultSimBenchOptions.sustainTimeScale})

  futures  stubs and futures vs plain proxyActivities on the real dev server, low load; and Temporal's own
         overhead per sequential step (stub call, timer) with Temporal's defaults vs the stack's settings
         options: --runs N  --warmup N  --sentences N  --step-runs N  --timer-runs N
         (defaults: ${defaultFuturesBenchOptions.runs} runs and ${defaultFuturesBenchOptions.warmup} warm-up runs per variant, ${defaultFuturesBenchOptions.sentences} sentences;
          ${defaultFuturesBenchOptions.stepRuns} repetitions of ${defaultFuturesBenchOptions.steps.join(', ')} stub steps and ${defaultFuturesBenchOptions.timerRuns} of ${defaultFuturesBenchOptions.timerSteps.join(', ')} timer steps per server)

  gateway  one-step workflow started and awaited over the HTTP gateway vs the Temporal client, interleaved, low load
         options: --runs N  --warmup N
         (defaults: ${defaultGatewayBenchOptions.runs} runs and ${defaultGatewayBenchOptions.warmup} warm-up runs per variant)

${stateBenchUsage}

${controlBenchUsage}

${controlOutageUsage}

  ${workloadNames.join('|')}  the paper's workloads end to end: Nalar vs its vanilla Temporal baseline, same seed and
         arrivals, over a grid of rates (available: ${availableWorkloads().join(', ') || 'none yet'}); Figure 9 and capacity
${e2eBenchOptionsUsage}

${policiesBenchUsage}

${scalingUsage}

Results go to load-tests/results/<name>/ (report.md, plots, result.json, records.jsonl.gz).`;

function parseFuturesOptions(args: string[]): FuturesBenchOptions {
  const o = { ...defaultFuturesBenchOptions };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const n = Number(args[i + 1]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got ${args[i + 1]}`);
    if (flag === '--runs' && n > 0) o.runs = n;
    else if (flag === '--warmup') o.warmup = n;
    else if (flag === '--sentences' && n > 0) o.sentences = n;
    else if (flag === '--step-runs' && n > 0) o.stepRuns = n;
    else if (flag === '--timer-runs' && n > 0) o.timerRuns = n;
    else throw new Error(`unknown or invalid option ${flag} ${args[i + 1]}`);
  }
  return o;
}

function parseGatewayOptions(args: string[]): GatewayBenchOptions {
  const o = { ...defaultGatewayBenchOptions };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const n = Number(args[i + 1]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got ${args[i + 1]}`);
    if (flag === '--runs' && n > 0) o.runs = n;
    else if (flag === '--warmup') o.warmup = n;
    else throw new Error(`unknown or invalid option ${flag} ${args[i + 1]}`);
  }
  return o;
}

function parseSimOptions(args: string[]): SimBenchOptions {
  const o = { ...defaultSimBenchOptions };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const num = Number(value);
    const positive = () => {
      if (!Number.isFinite(num) || num <= 0) throw new Error(`${flag} must be a positive number, got ${value}`);
      return num;
    };
    switch (flag) {
      case '--levels':
        o.levels = value.split(',').map((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw new Error(`--levels: ${v} is not a positive integer`);
          return n;
        });
        break;
      case '--level-seconds':
        o.levelSeconds = positive();
        break;
      case '--curve-time-scale':
        o.curveTimeScale = positive();
        break;
      case '--sustain-concurrency':
        o.sustainConcurrency = Math.round(positive());
        break;
      case '--sustain-seconds':
        o.sustainSeconds = positive();
        break;
      case '--sustain-time-scale':
        o.sustainTimeScale = positive();
        break;
      case '--seed':
        o.seed = Math.round(num);
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || rest.includes('--help')) {
    console.log(usage);
    return name ? 0 : 2;
  }
  const log = (line: string) => console.error(`[bench ${name}] ${line}`);
  if (isWorkloadName(name)) return runE2eBench(name, parseE2eBenchOptions(rest), log);
  switch (name) {
    case 'sim':
      return runSimBench(parseSimOptions(rest), log);
    case 'futures':
      return runFuturesBench(parseFuturesOptions(rest), log);
    case 'gateway':
      return runGatewayBench(parseGatewayOptions(rest), log);
    case 'state':
      return runStateBench(parseStateBenchOptions(rest), log);
    case 'control':
      return runControlBench(parseControlBenchOptions(rest), log);
    case 'control-outage':
      return runControlOutageBench(parseControlOutageOptions(rest), log);
    case 'policies':
      return runPoliciesBench(parsePoliciesBenchOptions(rest), log);
    case 'scaling':
      return runScalingBench(parseScalingOptions(rest), log);
    default:
      console.error(`unknown benchmark '${name}'\n\n${usage}`);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
