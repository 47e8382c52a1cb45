/**
 * The run of the policies benchmark: one stack (withE2eStack), then per seed and rate the same arrivals played
 * by the workload's Nalar variant under each policy set, the set swapped on the running global controller
 * before each segment (and checked: the controller publishes decisions under the new list, and
 * `GET /v1/policy` serves it).
 */
import { z } from 'zod';
import {
  parsePolicyList,
  resolvePolicies,
  type InstalledPolicy,
} from '../../../control-plane/global-controller/policy-config';
import type { Decisions } from '../../../control-plane/protocol';
import type { PoolProfile } from '../../../sim/profile';
import { playStep, waitFor, withE2eStack, type E2eRunSettings } from '../e2e/run';
import type { RunRecord } from '../e2e/stats';
import type { BenchWorkload } from '../workloads/types';
import { makespanMs, policySetNames, setOrder, type PolicySegment, type PolicySetName } from './stats';

/** A raw record of this benchmark: the e2e record with its policy set and seed. */
export interface PolicyRecord extends RunRecord {
  policySet: PolicySetName;
  seed: number;
}

export interface PoliciesRunResult {
  runId: string;
  temporalVersion: string;
  /** The simulator pool's profile as run. */
  profile: PoolProfile;
  /** In the order played. */
  segments: PolicySegment[];
  records: PolicyRecord[];
  /** Real seconds of the whole run, start-up included. */
  seconds: number;
}

/** How long a swapped list may take to appear in published decisions: many periods, for a loaded machine. */
const swapTimeoutMs = 15_000;

const policyStatus = z.object({ policies: z.array(z.object({ name: z.string() })) });

/** The policy names the controller serves on `GET /v1/policy`. */
async function servedPolicies(controllerUrl: string): Promise<string[]> {
  const res = await fetch(`${controllerUrl}/v1/policy`);
  if (!res.ok) throw new Error(`GET /v1/policy: HTTP ${res.status}`);
  return policyStatus.parse(await res.json()).policies.map((p) => p.name);
}

/**
 * Plays the grid of the policies benchmark. `sets` are the NALAR_POLICIES lists of the sets; `seeds` the
 * arrival seeds (`s.seed`, the first, also seeds the simulator).
 */
export async function runPolicies(
  workload: BenchWorkload,
  s: E2eRunSettings,
  sets: Record<PolicySetName, string>,
  seeds: readonly number[],
  log: (line: string) => void,
): Promise<PoliciesRunResult> {
  const t0 = Date.now();
  const installed = Object.fromEntries(
    policySetNames.map((set) => [set, resolvePolicies(parsePolicyList(sets[set], `policy set ${set}`))]),
  ) as Record<PolicySetName, InstalledPolicy[]>;
  return withE2eStack(workload, s, log, async (stack) => {
    // What the controller published during the current segment.
    let lists = new Set<string>();
    let prioritized = new Set<string>();
    const unsubscribe = stack.controller.onPublish((_previous: Decisions, next: Decisions) => {
      lists.add(next.policies.join(','));
      for (const session of Object.keys(next.priorities)) prioritized.add(session);
    });
    try {
      const segments: PolicySegment[] = [];
      const records: PolicyRecord[] = [];
      let step = 0;
      for (const seed of seeds) {
        for (const rate of s.rates) {
          const arrivals = workload.arrivals({ rate, durationMs: s.stepSeconds * 1000, seed });
          for (const policySet of setOrder(policySetNames, step)) {
            const names = installed[policySet].map((p) => p.name);
            stack.controller.setPolicies(installed[policySet]);
            const swapped = await waitFor(
              () => stack.controller.decisions.policies.join(',') === names.join(','),
              swapTimeoutMs,
            );
            if (!swapped) throw new Error(`policy set ${policySet}: not published within ${swapTimeoutMs} ms`);
            const served = await servedPolicies(stack.controllerUrl);
            lists = new Set();
            prioritized = new Set();
            const played = await playStep(
              workload,
              s,
              stack,
              {
                rate,
                variant: 'nalar',
                arrivals,
                workflowIdPrefix: `${workload.name}-${stack.runId}-s${seed}-r${rate}-${policySet}-`,
                label: `${policySet} (seed ${seed})`,
              },
              log,
            );
            const segment: PolicySegment = {
              policySet,
              seed,
              summary: played.summary,
              makespanMs: makespanMs(played.records),
              servedPolicies: served,
              publishedPolicyLists: [...lists],
              prioritizedSessions: prioritized.size,
            };
            log(
              `rate ${rate}/s ${policySet} (seed ${seed}): makespan ${Math.round(segment.makespanMs)} ms, ` +
                `${segment.prioritizedSessions} session(s) given a priority`,
            );
            segments.push(segment);
            records.push(...played.records.map((r) => ({ ...r, policySet, seed })));
          }
          step++;
        }
      }
      return {
        runId: stack.runId,
        temporalVersion: stack.temporalVersion,
        profile: stack.profile,
        segments,
        records,
        seconds: (Date.now() - t0) / 1000,
      };
    } finally {
      unsubscribe();
    }
  });
}
