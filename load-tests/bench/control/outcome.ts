/**
 * The goals of `npm run bench -- control` (issue 13, point 5) and the metrics of its closing line. Loop goals
 * use the p95 over rounds of collection + policy with the largest node count measured (64 by default); the
 * decision goal is the two-level p99; propagation is the max over trials against the period plus 50 ms; the
 * policy line budgets come from control-plane/policies/lines.ts. A goal without a figure (its size or part not
 * run) is in `targets` as not met, with a note.
 */
import {
  defaultPoliciesLineBudget,
  defaultPoliciesLines,
  policyLineBudgets,
  policyLines,
} from '../../../control-plane/policies/lines';
import { target, type Target } from '../run-info';
import { round } from '../stats';
import type { DecisionResult } from './decision';
import type { LoopResult } from './loop';
import type { ControlBenchOptions } from './options';
import type { PropagationResult } from './propagation';

/** Goal: ms of a global round at 131,072 live futures. */
export const loopTargetMsAt131072 = 100;
/** Goal: ms of a global round at 1,048,576 live futures. */
export const loopTargetMsAt1048576 = 500;
/** Goal: p99 ms of a two-level routing decision at 131,072 live futures. */
export const localDecisionTargetMs = 0.05;
/** Goal: propagation within the period plus this many ms. */
export const propagationSlackMs = 50;

export type NotedTarget = Target & { note?: string };

function noted(value: number, op: Target['op'], goal: number, note: string): NotedTarget {
  const t: NotedTarget = target(value, op, goal);
  return Number.isFinite(value) ? t : { ...t, note };
}

/** The loop results of the largest node count, by size. */
export function headlineLoops(loops: readonly LoopResult[]): Map<number, LoopResult> {
  const most = Math.max(...loops.map((l) => l.nodes));
  return new Map(loops.filter((l) => l.nodes === most).map((l) => [l.size, l]));
}

export function controlOutcome(
  o: ControlBenchOptions,
  loops: readonly LoopResult[],
  decisions: readonly DecisionResult[],
  propagation: PropagationResult | undefined,
): { metrics: Record<string, unknown>; targets: Record<string, NotedTarget> } {
  const head = headlineLoops(loops);
  const nodes = loops.length ? Math.max(...loops.map((l) => l.nodes)) : NaN;
  const at1k = head.get(Math.min(...head.keys()))?.totalMs.p95 ?? NaN;
  const loopMetric: Record<string, unknown> = {};
  for (const l of loops) {
    loopMetric[`${l.size}@${l.nodes}`] = {
      collect_p50: round(l.collectMs.p50),
      policy_p50: round(l.policyMs.p50),
      total_p50: round(l.totalMs.p50),
      total_p95: round(l.totalMs.p95),
      heap_mib: round(l.heapMiB),
    };
  }
  const decisionMetric: Record<string, unknown> = {};
  for (const d of decisions) {
    decisionMetric[String(d.size)] = {
      local_p50: round(d.local.p50),
      local_p99: round(d.local.p99),
      central_p50: round(d.central.p50),
      central_p99: round(d.central.p99),
      central_over_local_p50: round(d.central.p50 / d.local.p50),
    };
  }
  const loopAt = (size: number) => head.get(size)?.totalMs.p95 ?? NaN;
  const local131k = decisions.find((d) => d.size === 131072)?.local.p99 ?? NaN;
  const propagationMs = propagation && propagation.timedOut === 0 ? propagation.summary.max : NaN;
  const metrics: Record<string, unknown> = {
    loop_statistic: `p95 of collection + policy per round, ${nodes} nodes`,
    loop_ms: loopMetric,
    loop_p95_vs_1k: Object.fromEntries([...head].map(([size, l]) => [size, round(l.totalMs.p95 / at1k)])),
    decision_ms: decisionMetric,
    propagation_max_ms: propagation ? round(propagation.summary.max) : null,
    propagation_p99_ms: propagation ? round(propagation.summary.p99) : null,
    propagation_timed_out: propagation?.timedOut ?? null,
    period_ms: o.periodMs,
  };
  const notRun = (what: string) => `not measured (${what} not in this run)`;
  const targets: Record<string, NotedTarget> = {
    gc_loop_ms_at_131072: noted(round(loopAt(131072)), '<=', loopTargetMsAt131072, notRun('131072 futures')),
    gc_loop_ms_at_1048576: noted(round(loopAt(1048576)), '<=', loopTargetMsAt1048576, notRun('1048576 futures')),
    local_decision_p99_ms_at_131072: noted(
      round(local131k),
      '<=',
      localDecisionTargetMs,
      notRun('the decision part at 131072 futures'),
    ),
    propagation_ms: noted(
      round(propagationMs),
      '<=',
      o.periodMs + propagationSlackMs,
      propagation ? `${propagation.timedOut} trials timed out` : notRun('the propagation part'),
    ),
    srtf_policy_lines: target(policyLines('srtf'), '<=', policyLineBudgets.srtf as number),
    lpt_policy_lines: target(policyLines('lpt'), '<=', policyLineBudgets.lpt as number),
    default_policies_lines: target(defaultPoliciesLines(), '<=', defaultPoliciesLineBudget),
  };
  return { metrics, targets };
}
