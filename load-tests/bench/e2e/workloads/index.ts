/**
 * The registry of the workloads `npm run bench -- <name>` runs. Each workload adds ONE line to `loaders`
 * (a lazy import of its module under load-tests/bench/workloads/); the module's exported `BenchWorkload`
 * whose `name` is the key is the workload. A name without a line is "not available yet", said plainly.
 */
import type { BenchWorkload } from '../../workloads/types';

/** The paper's three workloads, in the order `--help` lists them. */
export const workloadNames = ['analyst', 'router', 'swe'] as const;
export type WorkloadName = (typeof workloadNames)[number];

/** Loads a workload's module. */
export type WorkloadLoader = () => Promise<Record<string, unknown>>;

const loaders: Partial<Record<WorkloadName, WorkloadLoader>> = {
  // One line per workload (the .js extension: node16 module resolution wants one in a dynamic import).
  analyst: () => import('../../workloads/analyst.js'),
  router: () => import('../../workloads/router.js'),
  swe: () => import('../../workloads/swe.js'),
};

/** Whether `name` is one of the paper's workloads (available or not). */
export function isWorkloadName(name: string): name is WorkloadName {
  return (workloadNames as readonly string[]).includes(name);
}

/** The names whose module is registered. */
export function availableWorkloads(): WorkloadName[] {
  return workloadNames.filter((n) => loaders[n] !== undefined);
}

/** True for a value shaped like a {@link BenchWorkload} named `name`. */
function isWorkload(value: unknown, name: string): value is BenchWorkload {
  if (typeof value !== 'object' || value === null) return false;
  const w = value as Partial<BenchWorkload>;
  return w.name === name && typeof w.run === 'function' && typeof w.arrivals === 'function';
}

/** The `BenchWorkload` exported by `mod` under any export name (it must be the only one named `name`). */
export function workloadOfModule(mod: Record<string, unknown>, name: string): BenchWorkload {
  const found = Object.values(mod).filter((v) => isWorkload(v, name));
  if (found.length !== 1) {
    throw new Error(`the module of workload '${name}' exports ${found.length} BenchWorkload named '${name}' (needs 1)`);
  }
  return found[0] as BenchWorkload;
}

/**
 * Loads a registered workload (`from`: the registry, replaced in tests). Throws an error saying so when `name` is one of the paper's workloads that is
 * not available yet, or is no workload at all.
 */
export async function loadWorkload(
  name: WorkloadName,
  from: Partial<Record<WorkloadName, WorkloadLoader>> = loaders,
): Promise<BenchWorkload> {
  const load = from[name];
  if (!load) {
    const available = workloadNames.filter((n) => from[n] !== undefined);
    throw new Error(
      `workload '${name}' is not available yet (no load-tests/bench/workloads/${name}.ts registered in ` +
        `load-tests/bench/e2e/workloads/index.ts); available: ${available.length ? available.join(', ') : 'none'}`,
    );
  }
  return workloadOfModule(await load(), name);
}
