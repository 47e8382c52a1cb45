/**
 * The options of `npm run load`: defaults (each written once here), `--help`, and parsing with zod. A bad
 * option is a `NALAR_ERR_USAGE` error naming it; an unknown scenario lists the ones that exist.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ErrorCode, NalarError } from '../../common/errors';

/** The folder of the k6 scripts: one `<scenario>.js` per scenario, shared code in `lib/`. */
export const k6ScriptsDir = path.resolve(__dirname, '..', 'k6');

/** Where reports go by default: load-tests/results/k6/<scenario>/. */
export const defaultResultsRoot = path.resolve(__dirname, '..', 'results', 'k6');

/**
 * The simulator's time scale on the embedded stack (model time × 0.02: a 1 s completion takes 20 ms), unless
 * NALAR_SIM_TIME_SCALE is set. Small enough that a run of minutes covers many workflows, large enough that
 * model time still shows next to Temporal's own per-step overhead (BENCHMARKS.md, "Time scale").
 */
export const loadTimeScale = 0.02;

/** The k6 load profiles (load-tests/k6/lib/profile.js). */
export const loadProfiles = ['smoke', 'constant', 'ramping'] as const;
export type LoadProfile = (typeof loadProfiles)[number];

/** The scenario names: the `.js` files of {@link k6ScriptsDir}. */
export function loadScenarios(dir = k6ScriptsDir): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

export interface LoadOptions {
  scenario: string;
  /** Gateway to drive; none: start the embedded stack. */
  target?: string;
  /** Bearer token for the gateway (with the embedded stack: configured as tenant `load`). */
  token?: string;
  /** Iterations per second (the scenario's default when absent). */
  rate?: number;
  /** k6 duration of the run (`30s`, `2m`); the profile's default when absent (smoke 5s, else 1m). */
  duration?: string;
  /** @default 'constant' */
  profile: LoadProfile;
  /** Report folder. @default load-tests/results/k6/<scenario>/ */
  out: string;
}

export function loadUsage(scenarios = loadScenarios()): string {
  return `Usage: npm run load -- <scenario> [options]

Runs a k6 scenario (load-tests/k6/<scenario>.js) with open-loop arrivals against the HTTP gateway and writes
report.md and summary.json. Without --target it starts its own embedded stack (dev server, simulator at
time scale ${loadTimeScale} unless NALAR_SIM_TIME_SCALE is set, one worker, gateway) on free ports in a
temporary folder, and stops it at the end.

Scenarios: ${scenarios.join(', ')}

Options:
  --target URL       drive an existing gateway (e.g. http://127.0.0.1:8235) instead of starting a stack
  --token T          bearer token for the gateway (NALAR_GATEWAY_TOKENS); also read from NALAR_LOAD_TOKEN
  --rate N           iterations per second (default: the scenario's; smoke: 1)
  --duration D       how long arrivals go on, e.g. 30s, 2m (default: smoke 5s, otherwise 1m)
  --profile P        ${loadProfiles.join(' | ')} (default: constant)
                     smoke: a few seconds at a low rate, thresholds on correctness only (npm test runs it)
                     constant: constant arrival rate; ramping: 1/s up to --rate, held, then down
  --out DIR          report folder (default: load-tests/results/k6/<scenario>/)
  --help             this text

Exit code: k6's (99 when a threshold was crossed), 1 when the run could not start.`;
}

const durationString = z.string().regex(/^\d+(\.\d+)?(s|m|h)?$/, 'must be a duration like 30s, 2m or 1h');

const flagsSchema = z.object({
  target: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  token: z.string().min(1, 'must not be empty').optional(),
  rate: z.coerce.number().positive('must be a positive number').optional(),
  duration: durationString.optional(),
  profile: z.enum(loadProfiles).default('constant'),
  out: z.string().min(1).optional(),
});

const flagNames = ['target', 'token', 'rate', 'duration', 'profile', 'out'] as const;

/**
 * Parses the arguments after `npm run load --`; returns undefined for `--help`.
 * @param env for NALAR_LOAD_TOKEN (a token is a secret: the environment keeps it out of shell history)
 */
export function parseLoadArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  scenarios = loadScenarios(),
): LoadOptions | undefined {
  if (args.includes('--help') || args.includes('-h')) return undefined;
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!(flagNames as readonly string[]).includes(name)) throw usageError(`unknown option --${name}`, scenarios);
    const value = inline ?? args[++i];
    if (value === undefined) throw usageError(`--${name} needs a value`, scenarios);
    flags[name] = value;
  }
  if (positional.length !== 1) {
    throw usageError(positional.length ? `one scenario, got ${positional.join(' ')}` : 'which scenario?', scenarios);
  }
  const scenario = positional[0] as string;
  if (!scenarios.includes(scenario)) {
    throw usageError(`unknown scenario ${scenario}; the scenarios are ${scenarios.join(', ')}`, scenarios);
  }
  const parsed = flagsSchema.safeParse({ ...flags, token: flags.token ?? (env.NALAR_LOAD_TOKEN || undefined) });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ');
    throw usageError(problems, scenarios);
  }
  const { out, ...rest } = parsed.data;
  return {
    scenario,
    ...rest,
    out: out ? path.resolve(out) : path.join(defaultResultsRoot, scenario),
  };
}

function usageError(message: string, scenarios: string[]): NalarError {
  return new NalarError(ErrorCode.USAGE, `${message}\n\n${loadUsage(scenarios)}`);
}
