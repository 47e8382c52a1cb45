/**
 * The options of `npm run bench -- state`: their defaults, the `--help` lines, and the parser of the
 * command line (flags in pairs, `--flag value`; a bad value or an unknown flag is an error naming it).
 */
import { configDefaults } from '../../../common/config';

/** The state backends; each also runs as `<backend>+cache` (a worker's cache of sessions it owns, on top). */
export const backendNames = ['filesystem', 'redis', 'postgres'] as const;
export type BackendName = (typeof backendNames)[number];

/** Store variants the benchmark knows; `--backends` picks among them. */
export const stateVariantNames = [...backendNames, ...backendNames.map((b) => `${b}+cache`)] as const;

export type StatePart = 'ops' | 'history';

export interface StateBenchOptions {
  /** Which parts run. @default ['ops', 'history'] */
  parts: StatePart[];
  /** Store variants of the operations part, by name (see {@link stateVariantNames}). @default all six */
  backends: string[];
  /** Measured agent calls per variant. @default 2000 */
  calls: number;
  /** Unmeasured calls per variant first (connections, JIT, files). @default 200 */
  warmup: number;
  /** Sessions the calls go round-robin over. @default 100 */
  sessions: number;
  /** Seed of every generated text. @default 42 */
  seed: number;
  /** Agent steps of the measured history runs (with offload; runs without offload may use fewer). @default 50 */
  steps: number;
  /** Starting conversation sizes of the history runs, KiB. @default [10, 1024, 5120] */
  sizesKiB: number[];
  /** Offload threshold of the data converter. @default NALAR_PAYLOAD_OFFLOAD_BYTES's default */
  offloadBytes: number;
  /** Backends back to back (each alone on the machine) or interleaved call by call. @default 'sequential' */
  schedule: 'sequential' | 'interleaved';
  /** @default NALAR_REDIS_URL's default */
  redisUrl: string;
  /** @default NALAR_POSTGRES_URL's default */
  postgresUrl: string;
}

export const defaultStateBenchOptions: StateBenchOptions = {
  parts: ['ops', 'history'],
  backends: [...stateVariantNames],
  calls: 2000,
  warmup: 200,
  sessions: 100,
  seed: 42,
  steps: 50,
  sizesKiB: [10, 1024, 5120],
  offloadBytes: configDefaults.payloadOffloadBytes,
  schedule: 'sequential',
  redisUrl: configDefaults.redisUrl,
  postgresUrl: configDefaults.postgresUrl,
};

/** The `state` lines of `npm run bench -- --help`. */
export const stateBenchUsage = `  state  state operations per store backend (read + write per agent call), and workflow history size per
         agent step with vs without payload offload on the real dev server
         options: --backends ${stateVariantNames.join(',')}  --calls N  --warmup N  --sessions N  --seed N
                  --steps N  --sizes KiB,KiB,...  --offload-bytes N  --parts ops,history
                  --schedule sequential|interleaved
                  --redis-url URL  --postgres-url URL
         (defaults: ${defaultStateBenchOptions.calls} calls per backend after ${defaultStateBenchOptions.warmup} warm-up calls over ${defaultStateBenchOptions.sessions} sessions, seed ${defaultStateBenchOptions.seed};
          ${defaultStateBenchOptions.steps} steps from ${defaultStateBenchOptions.sizesKiB.join(', ')} KiB conversations, offload above ${defaultStateBenchOptions.offloadBytes} bytes)`;

export function parseStateBenchOptions(args: string[]): StateBenchOptions {
  const o: StateBenchOptions = { ...defaultStateBenchOptions };
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i] as string;
    const value = args[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const whole = (min: number) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < min) throw new Error(`${flag} needs a whole number >= ${min}, got ${value}`);
      return n;
    };
    const list = () => value.split(',').filter((v) => v !== '');
    switch (flag) {
      case '--backends':
        o.backends = list();
        for (const b of o.backends) {
          if (!(stateVariantNames as readonly string[]).includes(b)) {
            throw new Error(`--backends: unknown backend '${b}' (known: ${stateVariantNames.join(', ')})`);
          }
        }
        break;
      case '--calls':
        o.calls = whole(1);
        break;
      case '--warmup':
        o.warmup = whole(0);
        break;
      case '--sessions':
        o.sessions = whole(1);
        break;
      case '--seed':
        o.seed = whole(0);
        break;
      case '--steps':
        o.steps = whole(1);
        break;
      case '--sizes':
        o.sizesKiB = list().map((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw new Error(`--sizes: ${v} is not a positive whole number of KiB`);
          return n;
        });
        break;
      case '--offload-bytes':
        o.offloadBytes = whole(0);
        break;
      case '--parts':
        o.parts = list().map((p) => {
          if (p !== 'ops' && p !== 'history') throw new Error(`--parts: unknown part '${p}' (ops, history)`);
          return p;
        });
        break;
      case '--schedule':
        if (value !== 'sequential' && value !== 'interleaved') {
          throw new Error(`--schedule: '${value}' is neither sequential nor interleaved`);
        }
        o.schedule = value;
        break;
      case '--redis-url':
        o.redisUrl = value;
        break;
      case '--postgres-url':
        o.postgresUrl = value;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}
